"""Alerts on one machine: the platform's Prometheus evaluates the project's alert rules, a real
Alertmanager (the Debian binary) routes what fires to a webhook of the platform's own, which logs it.

    Prometheus (rules of scaleplane.observability)  ->  Alertmanager (observability.routes)
        ->  AlertReceiver (aiohttp, in the platform's loop)  ->  <state dir>/alerts.jsonl

The rules are the generated ones with every `for:` multiplied by `HOLD_SCALE`: a three-minute demo
cannot wait the fifteen minutes "stuck at max" must hold in production, so here it holds fifteen
seconds. Expressions, windows and thresholds are unchanged. Alertmanager runs without clustering
(no gossip port) and groups for a second, so a notification follows an alert within seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
import yaml
from aiohttp import web

from scaleplane.local.servers import binaries, ports, processes
from scaleplane.local.servers import prometheus as local_prometheus
from scaleplane.observability import generating, routes

ALERTMANAGER = binaries.ALERTMANAGER
HOLD_SCALE = 1 / 60
LOG_NAME = "alerts.jsonl"
DEMO_ROUTE = routes.Route(group_wait="1s", group_interval="2s", repeat_interval="1h")


def write_rules(directory: Path, hold_scale: float = HOLD_SCALE) -> tuple[Path, ...]:
    """The generated rule files, holds scaled, under `directory` (what the local Prometheus loads)."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, groups in generating.rule_groups().items():
        path = directory / Path(name).name
        path.write_text(generating.rules_text(groups, hold_scale))
        written.append(path)
    return tuple(written)


@dataclass
class AlertReceiver:
    """Alertmanager's webhook receiver: one JSON line per alert per notification, in `log_path`."""

    log_path: Path
    received: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""
    _runner: web.AppRunner | None = None

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/alerts", self._receive)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, ports.HOST, 0).start()
        port = int(self._runner.addresses[0][1])
        self.url = f"http://{ports.HOST}:{port}/alerts"
        return self.url

    async def _receive(self, request: web.Request) -> web.Response:
        body = await request.json()
        now = time.time()
        with self.log_path.open("a") as log:
            for alert in body.get("alerts", []):
                record = {
                    "receivedAt": now,
                    "status": alert.get("status"),
                    "alertname": alert.get("labels", {}).get("alertname"),
                    "labels": alert.get("labels", {}),
                    "summary": alert.get("annotations", {}).get("summary", ""),
                    "startsAt": alert.get("startsAt"),
                    "endsAt": alert.get("endsAt"),
                    "fingerprint": alert.get("fingerprint"),
                }
                self.received.append(record)
                log.write(json.dumps(record) + "\n")
        return web.Response(status=200)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


class AlertmanagerServer:
    def __init__(self, workdir: Path, route: routes.Route, binary: Path = ALERTMANAGER.path) -> None:
        self.workdir = workdir
        self.route = route
        self.binary = binaries.Binary(ALERTMANAGER.name, binary, ALERTMANAGER.package)
        self.port = 0
        self.process: processes.SupervisedProcess | None = None

    @property
    def address(self) -> str:
        return f"{ports.HOST}:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.address}"

    def start(self, timeout: float = 30.0) -> AlertmanagerServer:
        path = binaries.require(self.binary)
        self.workdir.mkdir(parents=True, exist_ok=True)
        config = self.workdir / "alertmanager.yml"
        config.write_text(yaml.safe_dump(routes.config(self.route), sort_keys=False))

        def launch(port: int) -> None:
            self.port = port
            argv: list[str | Path] = [
                path, f"--config.file={config}", f"--storage.path={self.workdir / 'data'}",
                f"--web.listen-address={ports.HOST}:{port}", "--cluster.listen-address=", "--log.level=warn",
            ]  # fmt: skip
            self.process = processes.SupervisedProcess("alertmanager", argv, run_dir=self.workdir)
            self.process.start()
            try:
                self.process.wait_ready(self._ready, timeout, "answering on /-/ready")
            except processes.ProcessFailed:
                self.process.stop()
                raise

        ports.launch_on_port("alertmanager", None, launch, processes.failure_log)
        return self

    def _ready(self) -> bool:
        return requests.get(f"{self.url}/-/ready", timeout=1).status_code == 200

    def alerts(self) -> list[dict[str, Any]]:
        """What Alertmanager holds now (API v2)."""
        answer: list[dict[str, Any]] = requests.get(f"{self.url}/api/v2/alerts", timeout=5).json()
        return answer

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()


class LocalAlerting:
    """The receiver and Alertmanager for one platform, and its Prometheus pointed at both."""

    def __init__(self, state_dir: Path, servers_dir: Path, hold_scale: float = HOLD_SCALE) -> None:
        self.receiver = AlertReceiver(state_dir / LOG_NAME)
        self.servers_dir = servers_dir
        self.hold_scale = hold_scale
        self.alertmanager: AlertmanagerServer | None = None

    async def start(self, prometheus: local_prometheus.PrometheusServer) -> None:
        url = await self.receiver.start()
        route = routes.Route(
            webhook_url=url,
            group_wait=DEMO_ROUTE.group_wait,
            group_interval=DEMO_ROUTE.group_interval,
            repeat_interval=DEMO_ROUTE.repeat_interval,
        )
        self.alertmanager = AlertmanagerServer(self.servers_dir / "alertmanager", route)
        await asyncio.to_thread(self.alertmanager.start)
        prometheus.rule_files = write_rules(self.servers_dir / "rules", self.hold_scale)
        prometheus.alertmanagers = (self.alertmanager.address,)
        await asyncio.to_thread(prometheus.reload)

    async def stop(self) -> None:
        if self.alertmanager is not None:
            with contextlib.suppress(Exception):
                await asyncio.to_thread(self.alertmanager.stop)
        await self.receiver.stop()
