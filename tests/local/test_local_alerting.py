"""One alert end to end on one machine: its condition in real series, the real Prometheus evaluating
the generated rules, the real Alertmanager routing, and the platform's webhook receiving it, firing
and then resolved."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import prometheus_client as prom
import pytest
import yaml

from scaleplane.local.demo import alertlog
from scaleplane.local.servers import alerting, ports
from scaleplane.local.servers import prometheus as local_prometheus
from scaleplane.observability import generating

pytestmark = [pytest.mark.servers, pytest.mark.slow]
HOLD_SCALE = 1 / 300  # ScaleplanePolicyAtMax holds 15 m in production: 3 s here


class LoopSeries:
    """The loop's series for one policy (the names `control.meters` publishes), on a real /metrics."""

    def __init__(self) -> None:
        self.registry = prom.CollectorRegistry()
        labels = ("namespace", "policy")
        self.desired = prom.Gauge("scaleplane_desired_replicas", "", labels, registry=self.registry)
        self.maximum = prom.Gauge("scaleplane_max_replicas", "", labels, registry=self.registry)
        self.value = prom.Gauge("scaleplane_metric_value", "", (*labels, "metric"), registry=self.registry)
        self.target = prom.Gauge("scaleplane_metric_target", "", (*labels, "metric"), registry=self.registry)
        self.server, self.thread = prom.start_http_server(0, addr=ports.HOST, registry=self.registry)
        self.address = f"{ports.HOST}:{self.server.server_port}"

    def set(self, desired: float, backlog: float) -> None:
        self.desired.labels("local", "workers").set(desired)
        self.maximum.labels("local", "workers").set(6)
        self.value.labels("local", "workers", "backlog").set(backlog)
        self.target.labels("local", "workers", "backlog").set(10)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_rules_are_written_with_scaled_holds(tmp_path: Path) -> None:
    paths = alerting.write_rules(tmp_path, hold_scale=1 / 60)
    assert sorted(p.name for p in paths) == sorted(Path(n).name for n in generating.rule_groups())
    groups = yaml.safe_load((tmp_path / "scaleplane.rules.yaml").read_text())["groups"]
    holds = {r["alert"]: r["for"] for g in groups for r in g["rules"] if "alert" in r}
    assert holds["ScaleplanePolicyAtMax"] == "15s" and holds["ScaleplaneCapacityNotReady"] == "10s"


async def test_an_alert_fires_and_resolves_through_alertmanager_to_the_webhook(servers_dir: Path) -> None:
    workdir = servers_dir / "alerting"
    server = local_prometheus.PrometheusServer(workdir / "prometheus")
    local = alerting.LocalAlerting(workdir, workdir, hold_scale=HOLD_SCALE)
    series = LoopSeries()
    try:
        await asyncio.to_thread(server.start)
        await local.start(server)
        assert local.alertmanager is not None
        series.set(desired=6, backlog=400)  # at max, 40 per worker against a target of 10
        server.set_targets("scaleplane", [series.address])
        started = time.monotonic()
        firing = await _wait_for(local.receiver, "firing")
        assert firing["labels"] == {
            "alertname": "ScaleplanePolicyAtMax",
            "namespace": "local",
            "policy": "workers",
            "severity": "warning",
        }
        assert firing["summary"].startswith("A scaling policy is stuck at its maxReplicas")
        # Alertmanager holds it too, with its runbook.
        (held,) = [
            a for a in local.alertmanager.alerts() if a["labels"]["alertname"] == "ScaleplanePolicyAtMax"
        ]
        assert held["annotations"]["runbook_url"] == "runbooks/scaleplane-policy-at-max.md"
        assert time.monotonic() - started >= 3  # not before its (scaled) hold

        series.set(desired=3, backlog=20)  # the backlog drained: under max
        resolved = await _wait_for(local.receiver, "resolved")
        assert resolved["fingerprint"] == firing["fingerprint"]
        logged = [line for line in (workdir / alerting.LOG_NAME).read_text().splitlines() if line]
        assert len(logged) == len(local.receiver.received) >= 2
    finally:
        series.close()
        await local.stop()
        await asyncio.to_thread(server.stop)


async def _wait_for(receiver: alerting.AlertReceiver, status: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for record in receiver.received:
            if record["alertname"] == "ScaleplanePolicyAtMax" and record["status"] == status:
                return record
        await asyncio.sleep(0.2)
    raise AssertionError(f"no {status} ScaleplanePolicyAtMax within {timeout} s: {receiver.received}")


def test_episodes_from_the_webhook_log(tmp_path: Path) -> None:
    """Repeated and resolved notifications of one alert make one episode; times are the run's."""
    at_max = {"alertname": "ScaleplanePolicyAtMax", "severity": "warning", "policy": "workers"}
    log = tmp_path / alerting.LOG_NAME
    alert = {"alertname": "ScaleplanePolicyAtMax", "labels": at_max, "summary": "stuck", "fingerprint": "f1"}
    since = {"startsAt": "1970-01-01T00:17:30.123456789Z", "endsAt": "0001-01-01T00:00:00Z"}
    records = [
        {**alert, **since, "receivedAt": 1065.0, "status": "firing"},
        {**alert, **since, "receivedAt": 1067.0, "status": "firing"},  # a repeat: the same episode
        {**alert, **since, "receivedAt": 1090.0, "status": "resolved", "endsAt": "1970-01-01T00:18:08Z"},
        {"receivedAt": 5000.0, "status": "firing", "alertname": "Other", "labels": {"alertname": "Other"},
         "startsAt": "1970-01-01T01:20:00Z", "fingerprint": "f2"},  # after the run
    ]  # fmt: skip
    log.write_text("".join(json.dumps(r) + "\n" for r in records))
    (episode,) = alertlog.episodes(alertlog.read(log), start=1000.0, end=1200.0)
    assert (episode.alertname, episode.labels, episode.severity) == (
        "ScaleplanePolicyAtMax",
        "policy=workers",
        "warning",
    )
    assert episode.fired_at == pytest.approx(1050.123456)
    assert (episode.notified_at, episode.resolved_at) == (1065.0, 1088.0)
    section = "\n".join(alertlog.section(log, 1000.0, 1200.0, hold_scale=1 / 60))
    assert "| +50s | +65s | +88s | `ScaleplanePolicyAtMax` | warning | policy=workers | stuck |" in section
    assert "a fifteen-minute hold lasts 15 s" in section
    assert "No alert fired" in "\n".join(alertlog.section(tmp_path / "none.jsonl", 0, 1, hold_scale=1))
