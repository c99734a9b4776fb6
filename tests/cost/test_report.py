"""`scaleplane cost report` against a real Prometheus holding recorded operator series.

The series are written as OpenMetrics and backfilled with `promtool tsdb create-blocks-from openmetrics`
(the same names and labels control/meters.py exports), then a real Prometheus serves them and the
command reads them back with range queries.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from typer.testing import CliRunner

from scaleplane.cli import app
from scaleplane.cli.cost import costing
from scaleplane.cost import shares
from tests.support.endpoints import free_port

pytestmark = [
    pytest.mark.servers,
    pytest.mark.skipif(shutil.which("promtool") is None, reason="needs promtool and prometheus (bootstrap)"),
]
RUNNER = CliRunner()
STEP = 60


def demand(t: float) -> float:
    """Requests/s on `api`: 20 on even hours, 50 on odd ones."""
    return 50.0 if int(t // 3600) % 2 else 20.0


def api_replicas(t: float) -> float:
    return float(math.ceil(demand(t) / 10))


def reads_replicas(t: float) -> float:
    return 3.0 if int(t // 1800) % 2 else 2.0


def _openmetrics(start: int, end: int) -> str:
    times = range(start, end + 1, STEP)
    lines = ["# TYPE scaleplane_current_replicas gauge"]
    lines += [
        f'scaleplane_current_replicas{{namespace="shop",policy="api"}} {api_replicas(t)} {t}' for t in times
    ]
    lines += [
        f'scaleplane_current_replicas{{namespace="shop",policy="reads"}} {reads_replicas(t)} {t}'
        for t in times
    ]
    lines.append("# TYPE scaleplane_metric_value gauge")
    lines += [
        f'scaleplane_metric_value{{namespace="shop",policy="api",metric="requests"}} {demand(t)} {t}'
        for t in times
    ]
    return "\n".join([*lines, "# EOF", ""])


@pytest.fixture(scope="module")
def prometheus_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("prometheus")
    now = int(time.time()) // STEP * STEP
    source = folder / "recorded.om"
    source.write_text(_openmetrics(now - 4 * 3600, now + 3600))  # past the query's end: every step has data
    data = folder / "data"
    subprocess.run(
        ["promtool", "tsdb", "create-blocks-from", "openmetrics", str(source), str(data)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    config = folder / "prometheus.yml"
    config.write_text("global: {scrape_interval: 1h}\nscrape_configs: []\n")
    port = free_port()
    process = subprocess.Popen(
        [
            "prometheus",
            f"--config.file={config}",
            f"--storage.tsdb.path={data}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--storage.tsdb.retention.time=3650d",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                answer = requests.get(
                    f"{url}/api/v1/query", params={"query": "count(scaleplane_current_replicas)"}, timeout=1
                )
                if answer.ok and answer.json()["data"]["result"]:
                    break
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("Prometheus did not serve the backfilled series")
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


POLICIES = """\
apiVersion: scaleplane.io/v1alpha1
kind: ScalingPolicy
metadata:
  name: api
  annotations: {scaleplane.io/pod-requests: "500m,1Gi"}
spec:
  targetRef: {name: api}
  minReplicas: 1
  maxReplicas: 10
  metrics:
    - {name: requests, query: 'sum(rate(http_requests_total[1m]))', target: {type: AverageValue, value: 10}}
  behavior: {scaleDown: {stabilizationWindowSeconds: 60}}
---
apiVersion: scaleplane.io/v1alpha1
kind: ScalingPolicy
metadata:
  name: reads
  annotations: {scaleplane.io/instance-class: db.r6g.large}
spec:
  targetRef: {kind: RDSReadReplicas, apiVersion: scaleplane.io/v1alpha1, name: db}
  minReplicas: 2
  maxReplicas: 5
  metrics:
    - {name: lag, query: 'max(replica_lag_seconds)', target: {type: Value, value: 5}}
"""


def _run(url: str, tmp_path: Path, *extra: str) -> tuple[Any, list[int]]:
    (tmp_path / "policies.yaml").write_text(POLICIES)
    ends = [int(time.time()) // STEP * STEP]
    result = RUNNER.invoke(
        app.app,
        [
            "cost",
            "report",
            "--prometheus",
            url,
            "--since",
            "2h",
            "--step",
            "1m",
            "--policies",
            str(tmp_path / "policies.yaml"),
            "--node-price",
            "0.192,4,16",
            *extra,
        ],
    )
    ends.append(int(time.time()) // STEP * STEP)
    return result, ends


def _expected_replica_hours(pattern: Any, ends: list[int]) -> list[float]:
    return [sum(pattern(end - 7200 + i * STEP) for i in range(7200 // STEP)) * STEP / 3600 for end in ends]


def test_report_prices_recorded_replica_hours_against_holding_and_the_hpa(
    prometheus_url: str, tmp_path: Path
) -> None:
    result, ends = _run(prometheus_url, tmp_path, "--json", "--report", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    found = {p["policy"]: p for p in json.loads(result.stdout)["policies"]}
    api, reads = found["api"], found["reads"]
    assert any(
        api["replicaHours"] == pytest.approx(h, abs=1e-3) for h in _expected_replica_hours(api_replicas, ends)
    )
    # OpenCost's split of a 0.192 USD/h, 4 vCPU, 16 GiB node, for 500m and 1 GiB
    unit = shares.NodePrice(0.192, 4, 16).pod_hourly(0.5, 1.0)
    assert api["unitHourlyUsd"] == pytest.approx(unit)
    assert api["spent"] == pytest.approx(api["replicaHours"] * unit, abs=1e-3)
    assert api["holdPeak"]["replicas"] == 5 and api["holdMax"]["replicas"] == 10
    assert api["holdMax"]["cost"] == pytest.approx(10 * api["coveredHours"] * unit, abs=1e-3)
    assert api["spent"] < api["holdPeak"]["cost"] < api["holdMax"]["cost"]
    hpa, ours = api["hpaReplay"], api["policyReplay"]
    assert hpa is not None and ours is not None
    assert (
        hpa["replicaHours"] >= ours["replicaHours"]
    )  # the HPA's 300 s scale-down window holds replicas longer
    assert "the HPA's defaults" in api["summary"] and "SLO-violation minutes" in api["summary"]
    # an RDS read-replica policy priced from the catalog; its lag metric is no demand rate to replay
    assert reads["unitHourlyUsd"] == 0.225 and reads["hpaReplay"] is None
    assert any(
        reads["replicaHours"] == pytest.approx(h) for h in _expected_replica_hours(reads_replicas, ends)
    )
    assert reads["note"] == "metric 'lag' reads a backlog, not a demand rate: not replayable"
    page = (tmp_path / "out" / "cost-report.md").read_text()
    assert "| shop/api |" in page and "hold maxReplicas" in page
    assert (tmp_path / "out" / "autoscaling-spend.png").stat().st_size > 5000


def test_report_prints_a_table(prometheus_url: str, tmp_path: Path) -> None:
    result, _ = _run(prometheus_url, tmp_path)
    assert result.exit_code == 0, result.output
    assert "shop/api" in result.stdout and "hold maxReplicas" in result.stdout


def test_a_prometheus_that_is_not_there_is_one_error_line(tmp_path: Path) -> None:
    result, _ = _run(f"http://127.0.0.1:{free_port()}", tmp_path)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: cannot query Prometheus at") and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--unit-price", "api"), "--unit-price: expected POLICY=NUMBER, was 'api'"),
        (("--node-price", "cheap"), "--node-price: expected USD_PER_HOUR,VCPU,MEMORY_GIB"),
    ],
)
def test_bad_options_are_one_error_line(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    result = RUNNER.invoke(app.app, ["cost", "report", "--prometheus", "http://127.0.0.1:9", *args])
    assert result.exit_code == 2 and message in result.stderr
    assert costing.cost_app is not None


def test_a_prometheus_that_never_answers_times_out_with_one_error_line(tmp_path: Path) -> None:
    import socket

    with socket.socket() as silent:  # accepts connections (the backlog) and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        started = time.monotonic()
        result, _ = _run(f"http://127.0.0.1:{silent.getsockname()[1]}", tmp_path, "--timeout", "1")
    assert result.exit_code == 1 and time.monotonic() - started < 10
    assert result.stderr.startswith("error: cannot query Prometheus at") and "Read timed out" in result.stderr


def test_the_queries_read_the_series_the_operator_exports() -> None:
    from prometheus_client import generate_latest

    from scaleplane.control import meters
    from scaleplane.cost import attributing

    loop = meters.LoopMeters()
    loop.current.labels(namespace="shop", policy="api").set(2)
    loop.metric_value.labels(namespace="shop", policy="api", metric="requests").set(20)
    exported = generate_latest(loop.registry).decode()
    assert 'scaleplane_current_replicas{namespace="shop",policy="api"} 2.0' in exported
    assert 'scaleplane_metric_value{metric="requests",namespace="shop",policy="api"} 20.0' in exported
    assert (
        "scaleplane_current_replicas" in attributing.REPLICAS
        and "scaleplane_metric_value" in attributing.METRICS
    )
