"""A real Prometheus (the Debian binary) on 127.0.0.1 with its own config and data directory.

Targets are added at run time through file-based service discovery: one JSON file per job under
`<workdir>/targets/`, written atomically (Prometheus watches the directory with inotify and re-reads it
at least every `refresh_interval`). The job label comes from the file (it overrides the scrape config's
job name), so every job is just `add_target(job, "127.0.0.1:PORT")`.

Timing to keep in mind: the HTTP API answers at once, but the first scrape of a new target lands one
scrape interval after discovery (about 5 s after Prometheus starts). `wait_for` polls until a query's
result passes a predicate, which is how tests and the demo wait for data.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests
import yaml

from scaleplane.local.servers import binaries, ports, processes


class PrometheusQueryError(RuntimeError):
    """Prometheus rejected a query or answered with something other than one number."""


class PrometheusServer:
    def __init__(
        self,
        workdir: Path,
        *,
        port: int | None = None,
        scrape_interval: str = "1s",
        evaluation_interval: str = "1s",
        rule_files: tuple[Path, ...] = (),
        alertmanagers: tuple[str, ...] = (),
        retention: str = "1d",
        binary: Path = binaries.PROMETHEUS.path,
        scrape_configs: tuple[dict[str, Any], ...] = (),
    ) -> None:
        self.workdir = workdir
        self.requested_port = port
        self.port = port or 0
        self.scrape_interval = scrape_interval
        self.evaluation_interval = evaluation_interval
        self.rule_files = rule_files
        self.alertmanagers = alertmanagers  # host:port of each Alertmanager firing alerts go to
        self.retention = retention
        self.binary = binaries.Binary("prometheus", binary, binaries.PROMETHEUS.package)
        self.scrape_configs = scrape_configs  # jobs of their own (relabelling...), after the file-SD one
        self.targets_dir = workdir / "targets"
        self.config_path = workdir / "prometheus.yml"
        self.process: processes.SupervisedProcess | None = None
        self._session = requests.Session()

    @property
    def url(self) -> str:
        return f"http://{ports.HOST}:{self.port}"

    def write_config(self) -> None:
        config = {
            "global": {
                "scrape_interval": self.scrape_interval,
                "scrape_timeout": self.scrape_interval,
                "evaluation_interval": self.evaluation_interval,
            },
            "rule_files": [str(path) for path in self.rule_files],
            "alerting": {"alertmanagers": [{"static_configs": [{"targets": list(self.alertmanagers)}]}]},
            "scrape_configs": [
                {
                    "job_name": "file_sd",
                    "file_sd_configs": [
                        {"files": [str(self.targets_dir / "*.json")], "refresh_interval": "1s"}
                    ],
                },
                *self.scrape_configs,
            ],
        }
        self.config_path.write_text(yaml.safe_dump(config, sort_keys=False))

    def start(self, timeout: float = 30.0) -> PrometheusServer:
        path = binaries.require(self.binary)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.targets_dir.mkdir(exist_ok=True)
        self.write_config()
        ports.launch_on_port(
            "prometheus",
            self.requested_port,
            lambda port: self._launch(path, port, timeout),
            processes.failure_log,
        )
        return self

    def _launch(self, path: Path, port: int, timeout: float) -> None:
        self.port = port
        self.process = processes.SupervisedProcess(
            "prometheus",
            [
                path,
                f"--config.file={self.config_path}",
                f"--storage.tsdb.path={self.workdir / 'data'}",
                f"--storage.tsdb.retention.time={self.retention}",
                f"--web.listen-address={ports.HOST}:{port}",
                "--web.enable-lifecycle",
                "--log.level=warn",
            ],
            run_dir=self.workdir,
            stop_timeout=10.0,
        )
        self.process.start()
        try:
            self.process.wait_ready(self._ready, timeout, "answering on /-/ready")
        except processes.ProcessFailed:
            self.process.stop()
            raise

    def _ready(self) -> bool:
        return self._session.get(f"{self.url}/-/ready", timeout=1).status_code == 200

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()
        self._session.close()

    def __enter__(self) -> PrometheusServer:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    # Targets -------------------------------------------------------------------------------------

    def _job_file(self, job: str) -> Path:
        safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in job)
        return self.targets_dir / f"{safe}.json"

    def targets(self, job: str) -> list[str]:
        try:
            groups = json.loads(self._job_file(job).read_text())
        except FileNotFoundError:
            return []
        return [address for group in groups for address in group["targets"]]

    def set_targets(self, job: str, addresses: list[str]) -> None:
        """Replace the job's targets (atomic rename, so Prometheus never reads half a file)."""
        path = self._job_file(job)
        self.targets_dir.mkdir(parents=True, exist_ok=True)
        groups = [{"targets": sorted(set(addresses)), "labels": {"job": job}}] if addresses else []
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(groups))
        tmp.replace(path)

    def add_target(self, job: str, address: str) -> None:
        self.set_targets(job, [*self.targets(job), address])

    def remove_target(self, job: str, address: str) -> None:
        self.set_targets(job, [a for a in self.targets(job) if a != address])

    def reload(self) -> None:
        """Re-read the config and rule files (after changing `rule_files`)."""
        self.write_config()
        self._session.post(f"{self.url}/-/reload", timeout=5).raise_for_status()

    # Queries ---------------------------------------------------------------------------------------

    def _api(self, path: str, **params: str) -> Any:
        response = self._session.get(f"{self.url}/api/v1/{path}", params=params, timeout=5)
        body = response.json()
        if body.get("status") != "success":
            raise PrometheusQueryError(f"{params}: {body.get('errorType')}: {body.get('error')}")
        return body["data"]

    def query_vector(self, promql: str) -> list[tuple[dict[str, str], float]]:
        data = self._api("query", query=promql)
        if data["resultType"] == "scalar":
            return [({}, float(data["result"][1]))]
        if data["resultType"] != "vector":
            raise PrometheusQueryError(f"{promql!r} gives a {data['resultType']}, not an instant vector")
        return [(item["metric"], float(item["value"][1])) for item in data["result"]]

    def query(self, promql: str) -> float | None:
        """One number: None when the result is empty (no data yet) or NaN; an error if several series."""
        result = self.query_vector(promql)
        if not result:
            return None
        if len(result) > 1:
            raise PrometheusQueryError(f"{promql!r} gives {len(result)} series; aggregate it (e.g. sum(...))")
        value = result[0][1]
        return None if math.isnan(value) else value

    def wait_for(
        self,
        promql: str,
        predicate: Callable[[float], bool] | None = None,
        timeout: float = 30.0,
        interval: float = 0.25,
    ) -> float:
        """Poll until `promql` has a value that passes `predicate` (default: any value); return it."""
        deadline = time.monotonic() + timeout
        last: float | None = None
        while True:
            try:
                last = self.query(promql)
            except (requests.RequestException, PrometheusQueryError) as error:
                last_error: str | None = str(error)
            else:
                last_error = None
                if last is not None and (predicate is None or predicate(last)):
                    return last
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"{promql!r} did not reach the expected value within {timeout:g} s "
                    f"(last value {last}, last error {last_error}); targets: {self.target_health()}"
                )
            time.sleep(interval)

    def target_health(self) -> dict[str, str]:
        """`job/address -> health (last error)` of every active target, for diagnostics."""
        data = self._api("targets", state="active")
        return {
            f"{t['labels'].get('job')}/{t['labels'].get('instance')}": (
                t["health"] + (f" ({t['lastError']})" if t.get("lastError") else "")
            )
            for t in data["activeTargets"]
        }
