"""Serve a Gateway until a signal, then drain it: the whole life of the gateway process."""

from __future__ import annotations

import asyncio
import logging
import signal

from aiohttp import web

from scaleplane.functions.gateway import application, settings

log = logging.getLogger("scaleplane.gateway")


async def serve(config: settings.GatewaySettings, stop: asyncio.Event | None = None) -> None:
    """Listen on `config.listen`; on SIGTERM/SIGINT (or `stop`), drain, then close."""
    stop = stop or asyncio.Event()
    front = application.Gateway(config)
    runner = web.AppRunner(front.app(), access_log=None, handle_signals=False, shutdown_timeout=1.0)
    await runner.setup()
    await web.TCPSite(runner, config.host, config.port, reuse_address=True, backlog=1024).start()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    where = config.routes or f"the EndpointSlices of {', '.join(config.kubernetes.namespaces)}"  # type: ignore[union-attr]
    log.info("gateway on http://%s:%d, routes from %s", config.host, config.port, where)
    await stop.wait()
    log.info("draining: no new calls; waiting up to %g s for the others", config.limits.drain_seconds)
    if not await front.drain():
        log.warning("drain: calls still running after %g s; stopping anyway", config.limits.drain_seconds)
    await runner.cleanup()
    log.info("gateway stopped")
