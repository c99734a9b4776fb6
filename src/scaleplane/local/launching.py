"""The platform's processes around the pools: the servers, the sample app, the watchdog, the exporters.

`Platform.start` calls these in this order and `Platform.stop` ends them (`stop_servers` last of all):

    build + start_servers   Prometheus, Redis and the database (one PostgreSQL, or etcd and Patroni
                            with `ha_database`) at once, each in a thread
    start_app               the sample app (`local.app.api`) on a free port, once it answers /healthz
    start_watchdog          ends everything if the controller dies without cleaning up (`watchdog`)
    start_exporters         the platform's exporter, and the stock ones when installed

What a step starts is recorded (in `Servers`, or in the caller's exporter list) before it is waited
for, so a start that fails half way leaves the platform's stop a record of everything to end.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from scaleplane.local import runfiles, settings
from scaleplane.local.ha import hadatabases
from scaleplane.local.pools import targetkinds
from scaleplane.local.servers import (
    ports,
    postgres,
    processes,
    prometheus,
    redis,
    stockexporters,
    watchdog,
)

# The platform's own name: its messages read the same wherever in the assembly they come from.
log = logging.getLogger("scaleplane.local.platform")


@dataclass
class Servers:
    prometheus: prometheus.PrometheusServer
    redis: redis.RedisServer
    primary: postgres.PostgresServer | hadatabases.HaDatabase
    app: processes.SupervisedProcess | None = None
    app_port: int = 0
    watchdog: processes.SupervisedProcess | None = None


def build(config: settings.PlatformConfig, servers_dir: Path) -> Servers:
    """The three servers, not started yet (the caller keeps them first, to stop them on a failure)."""
    servers_dir.mkdir(parents=True, exist_ok=True)
    servers_dir.chmod(0o755)
    prom = prometheus.PrometheusServer(
        servers_dir / "prometheus",
        scrape_interval=config.scrape_interval,
        evaluation_interval=config.scrape_interval,
    )
    cache = redis.RedisServer(servers_dir / "redis")
    primary: postgres.PostgresServer | hadatabases.HaDatabase
    if config.ha_database:
        primary = hadatabases.HaDatabase(servers_dir / "patroni")
    else:
        primary = postgres.PostgresServer(servers_dir / "postgres-primary", name="postgres-primary")
    return Servers(prom, cache, primary)


async def start_servers(servers: Servers) -> None:
    results = await asyncio.gather(
        asyncio.to_thread(servers.prometheus.start),
        asyncio.to_thread(servers.redis.start),
        asyncio.to_thread(servers.primary.start),
        return_exceptions=True,
    )
    failures = [r for r in results if isinstance(r, BaseException)]
    if failures:
        raise settings.PlatformError(f"a server did not start: {failures[0]}")


async def start_app(servers: Servers, servers_dir: Path, readpool_path: Path, broker_url: str) -> None:
    if not readpool_path.exists():
        from scaleplane.local.app import readpool

        readpool.write_members(readpool_path, [])

    def launch(port: int) -> processes.SupervisedProcess:
        argv = [
            sys.executable, "-m", "scaleplane.local.app.api", "--port", str(port),
            "--primary", servers.primary.dsn, "--redis", f"redis://{ports.HOST}:{servers.redis.port}/1",
            "--read-pool-file", str(readpool_path),
        ]  # fmt: skip
        env = {**os.environ, "SCALEPLANE_BROKER_URL": broker_url, "PYTHONUNBUFFERED": "1"}
        app = processes.SupervisedProcess("sample-app", argv, run_dir=servers_dir / "app", env=env)
        app.start()
        try:
            app.wait_ready(lambda: _http_ok(f"http://{ports.HOST}:{port}/healthz"), 30, "answering /healthz")
        except processes.ProcessFailed:
            app.stop()
            raise
        servers.app_port = port
        return app

    servers.app = await asyncio.to_thread(
        ports.launch_on_port, "sample-app", None, launch, processes.failure_log
    )
    servers.prometheus.set_targets("sample-app", [f"{ports.HOST}:{servers.app_port}"])


def start_watchdog(servers: Servers, state_dir: Path, servers_dir: Path) -> None:
    record = processes.read_record(runfiles.controller_pid_file(state_dir))
    assert record is not None
    argv = [
        sys.executable, "-m", "scaleplane.local.servers.watchdog", "--state-dir", str(state_dir),
        "--pid", str(record.pid), "--start-ticks", str(record.start_ticks),
    ]  # fmt: skip
    servers.watchdog = processes.SupervisedProcess(watchdog.NAME, argv, run_dir=servers_dir).start()


async def start_exporters(
    servers: Servers, servers_dir: Path, context: targetkinds.Context, exporters: list[Any]
) -> None:
    """Queue depth, replica lag and read load, as Prometheus series the policies query; beside them
    postgres_exporter and redis_exporter when installed (the Database and Cache dashboards).

    Each exporter joins `exporters` (what the platform stops, in reverse) before it starts."""
    s = servers
    # postgres_exporter (lib/pq) cannot follow a multi-host DSN: it watches the leader of the start.
    db = s.primary
    database_dsn = db.leader_dsn if isinstance(db, hadatabases.HaDatabase) else db.dsn
    stock = stockexporters.installed(
        database_dsn, f"redis://{ports.HOST}:{s.redis.port}", servers_dir / "exporters"
    )
    exporters += [exporter for _, exporter in stock]
    starting = asyncio.gather(*(asyncio.to_thread(e.start) for _, e in stock), return_exceptions=True)
    try:
        for exporter in targetkinds.exporters(context):
            exporters.append(exporter)
            await asyncio.to_thread(exporter.start)
            s.prometheus.set_targets("exporter", [exporter.address])
    finally:
        results = await starting
    for (job, one), result in zip(stock, results, strict=True):
        if isinstance(result, BaseException):  # optional: the platform runs without it
            log.warning("%s did not start (%s); its dashboard gets no data", one.name, result)
        else:
            s.prometheus.set_targets(job, [one.address])


async def stop_servers(servers: Servers) -> None:
    """The app, then the database, Redis and Prometheus; a stop that fails does not keep the next."""
    s = servers
    for stop in (s.app.stop if s.app else None, s.primary.stop, s.redis.stop, s.prometheus.stop):
        if stop is not None:
            with contextlib.suppress(Exception):
                await asyncio.to_thread(stop)


def _http_ok(url: str) -> bool:
    return requests.get(url, timeout=1).status_code == 200
