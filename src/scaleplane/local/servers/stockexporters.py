"""The exporters a cluster runs beside PostgreSQL and Redis, run here on 127.0.0.1 (Debian binaries).

The dashboards and alerts (`scaleplane.observability`) read what a deployed stack publishes:
CloudNativePG's instance exporter (`cnpg_*`) and redis_exporter (`redis_*`, the bitnami chart's metrics
sidecar). On one machine there is no CloudNativePG: the real postgres_exporter runs the queries of
`cnpg-queries.yaml`, which publish the CloudNativePG names (see the file), and the real redis_exporter
runs as it does in the cluster. One exporter per server, each a supervised process on a free port.

The local platform runs them (`installed`) for its primary and its Redis when the Debian packages are
there, so the Database and Cache dashboards have data on one machine; they are optional (`local doctor`
names the install). The read replicas the pool adds and removes get none: their lag reaches the
dashboards only through the primary's `cnpg_pg_replication_streaming_replicas` and the policies'
own series.
"""

from __future__ import annotations

import abc
import os
from pathlib import Path

import requests

from scaleplane.local.servers import binaries, ports, processes

POSTGRES_EXPORTER = binaries.Binary(
    "prometheus-postgres-exporter",
    Path("/usr/bin/prometheus-postgres-exporter"),
    "prometheus-postgres-exporter",
)
REDIS_EXPORTER = binaries.Binary(
    "prometheus-redis-exporter", Path("/usr/bin/prometheus-redis-exporter"), "prometheus-redis-exporter"
)
CNPG_QUERIES = Path(__file__).with_name("cnpg-queries.yaml")
# Prometheus job names: what the cluster's PodMonitor / ServiceMonitor would call them.
CNPG_JOB = "cnpg"
REDIS_JOB = "redis"


class StockExporter(abc.ABC):
    """One exporter process for one server; `address` is what Prometheus scrapes."""

    def __init__(self, name: str, binary: binaries.Binary, run_dir: Path) -> None:
        self.name = name
        self.binary = binary
        self.run_dir = run_dir
        self.port = 0
        self.process: processes.SupervisedProcess | None = None

    @property
    def address(self) -> str:
        return f"{ports.HOST}:{self.port}"

    @abc.abstractmethod
    def argv(self, path: Path, port: int) -> list[str]:
        """The exporter's command line, listening on `port`."""

    def env(self) -> dict[str, str]:
        return dict(os.environ)

    def start(self, timeout: float = 20.0) -> StockExporter:
        path = binaries.require(self.binary)

        def launch(port: int) -> None:
            self.port = port
            self.process = processes.SupervisedProcess(
                self.name, self.argv(path, port), run_dir=self.run_dir, env=self.env()
            )
            self.process.start()
            try:
                self.process.wait_ready(self._answers, timeout, "serving /metrics")
            except processes.ProcessFailed:
                self.process.stop()
                raise

        ports.launch_on_port(self.name, None, launch, processes.failure_log)
        return self

    def _answers(self) -> bool:
        return requests.get(f"http://{self.address}/metrics", timeout=2).status_code == 200

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()


class PostgresExporter(StockExporter):
    """postgres_exporter publishing the CloudNativePG series of one server (`dsn`)."""

    def __init__(self, name: str, dsn: str, run_dir: Path) -> None:
        super().__init__(name, POSTGRES_EXPORTER, run_dir)
        self.dsn = dsn

    def argv(self, path: Path, port: int) -> list[str]:
        return [
            str(path),
            f"--web.listen-address={ports.HOST}:{port}",
            f"--extend.query-path={CNPG_QUERIES}",
            "--disable-default-metrics",
            "--disable-settings-metrics",
            "--log.level=warn",
        ]

    def env(self) -> dict[str, str]:
        separator = "&" if "?" in self.dsn else "?"
        return {**os.environ, "DATA_SOURCE_NAME": f"{self.dsn}{separator}sslmode=disable"}


class RedisExporter(StockExporter):
    """redis_exporter for one Redis server (`url`, e.g. redis://127.0.0.1:PORT)."""

    def __init__(self, name: str, url: str, run_dir: Path) -> None:
        super().__init__(name, REDIS_EXPORTER, run_dir)
        self.url = url

    def argv(self, path: Path, port: int) -> list[str]:
        return [str(path), f"--redis.addr={self.url}", f"--web.listen-address={ports.HOST}:{port}"]


def installed(postgres_dsn: str, redis_url: str, run_dir: Path) -> list[tuple[str, StockExporter]]:
    """(Prometheus job, exporter not started) for each exporter whose binary this machine has."""
    found: list[tuple[str, StockExporter]] = []
    if binaries.is_installed(POSTGRES_EXPORTER):
        found.append((CNPG_JOB, PostgresExporter("postgres-exporter", postgres_dsn, run_dir)))
    if binaries.is_installed(REDIS_EXPORTER):
        found.append((REDIS_JOB, RedisExporter("redis-exporter", redis_url, run_dir)))
    return found
