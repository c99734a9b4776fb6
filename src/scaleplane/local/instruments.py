"""The local controller's own Prometheus metrics: the loop's series of `scaleplane.control.meters`, the
same names and labels as the operator's (dashboards read both); the report plots `scaleplane_ready_replicas`.

Served by a small aiohttp server on 127.0.0.1 inside the controller's event loop; Prometheus scrapes it
as job `scaleplane`.
"""

from __future__ import annotations

import socket

from aiohttp import web
from prometheus_client import generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from scaleplane.control import meters
from scaleplane.local import ports


class MetricsServer:
    def __init__(self, instruments: meters.LoopMeters) -> None:
        self.instruments = instruments
        self.port = 0
        self._runner: web.AppRunner | None = None

    async def start(self) -> int:
        app = web.Application()
        app.router.add_get("/metrics", self._metrics)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        # Bound here on port 0 and handed over: no window for another process to take the port.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind((ports.HOST, 0))
        self.port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()
        return self.port

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _metrics(self, _: web.Request) -> web.Response:
        body = generate_latest(self.instruments.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
