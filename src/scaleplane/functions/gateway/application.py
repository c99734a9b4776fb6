"""The gateway's logic: every call to a function goes through here (the process is `scaleplane.gateway`).

    POST /v1/functions/{namespace}/{name}   JSON parameters in, the function's JSON answer out
    (with `Prefer: respond-async`)          202 and an id once the call is journaled (journaling)
    GET  /v1/calls/{id}                     an async call's status and answer (its namespace's token)
    GET  /v1/functions                      known functions, ready instances, in flight and queued
    GET  /healthz | /readyz | /metrics      liveness; readiness (503 while draining); the gateway's series

A call: token check (401) -> known function (404) -> body within maxBodyBytes (413) -> a slot on the
least loaded ready instance (balancing: at zero it queues and the function is woken at once; 429
QueueFull when the queue is full, 504 NoInstance when no instance was ready in time) -> forwarded to the
instance's /invoke (504 TimedOut when the call's whole time runs out), whose status and JSON body come
back unchanged. Every error is JSON:
`{"error": {"code": "QueueFull", "message": "..."}}`.

Here: the application, its life cycle and its reads. The parts it ties together, in this package:
routetable (the functions and their routes, kept fresh from the source), calling (the token, the door of
async calls, what every answer counts), routing (what happens to a call once admitted, and the one retry
the gateway makes), journaling (where async calls wait).

Shutdown drains: /readyz turns 503 and new calls answer 503 ShuttingDown, calls in flight and queued
finish (up to drainSeconds), then the server closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

import aiohttp
from aiohttp import web
from prometheus_client import generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from scaleplane.functions import announcing, instruments, routes
from scaleplane.functions.gateway import calling, journaling, routetable, routing, settings, waking

log = logging.getLogger("scaleplane.gateway")


class Gateway:
    def __init__(self, config: settings.GatewaySettings, *, waker: waking.Waker | None = None) -> None:
        self.settings = config
        source, default_waker = routetable.source_for(config)
        self.waker = waker or default_waker
        self.meters = instruments.GatewayMeters()
        self.announcer = announcing.Announcer(config.hooks, source=f"/scaleplane/gateway/{config.listen}")
        self.table = routetable.RouteTable(source, config.limits, self.meters, self._wake)
        self.accounting = calling.Accounting(self.meters, self.announcer)
        self.draining = False
        self.session: aiohttp.ClientSession | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._poller: asyncio.Task[None] | None = None
        self.journal: journaling.Journal | None = None
        if config.journal:
            # A call another gateway holds longer than the whole time a call may take is one it lost.
            idle = config.limits.timeout_seconds * 2 + 5
            self.journal = journaling.Journal(
                config.journal, f"gateway@{config.listen}", claim_idle_seconds=idle
            )
        self._worker: asyncio.Task[None] | None = None

    # Life cycle -------------------------------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application(client_max_size=self.settings.limits.max_body_bytes)
        app.router.add_post("/v1/functions/{namespace}/{name}", self.call)
        app.router.add_get("/v1/functions", self.list_functions)
        app.router.add_get("/v1/calls/{id}", self.call_status)
        app.router.add_get("/healthz", self.healthz)
        app.router.add_get("/readyz", self.readyz)
        app.router.add_get("/metrics", self.metrics)
        app.on_startup.append(self._on_startup)
        app.on_cleanup.append(self._on_cleanup)
        return app

    async def _on_startup(self, _: web.Application) -> None:
        connector = aiohttp.TCPConnector(limit=0, ttl_dns_cache=300)
        self.session = aiohttp.ClientSession(connector=connector, auto_decompress=False)
        await self.table.refresh()
        self._poller = asyncio.get_running_loop().create_task(self.table.poll())
        if self.journal is not None:
            self._worker = asyncio.get_running_loop().create_task(self._work_journal())

    async def _work_journal(self) -> None:
        assert self.journal is not None
        while not self.draining:
            try:
                await self.journal.work(self._run_journaled)
            except Exception as exc:  # Redis away: async calls wait in the stream until it is back
                log.warning("journal: %s; retrying in 1 s", exc)
                await asyncio.sleep(1.0)

    async def _run_journaled(self, key: routes.FunctionKey, body: bytes) -> tuple[int, bytes]:
        route = self.table.get(key)
        if route is None:
            answer = routing.error(404, "NotFound", f"no function {key}")
        else:
            started = time.monotonic()
            response = await route.forward(self._session(), body, started)
            answer = self.accounting.count(route, started, response)
        return answer.status, bytes(answer.body or b"")  # type: ignore[arg-type]

    async def _on_cleanup(self, _: web.Application) -> None:
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
        if self.journal is not None:
            await self.journal.close()
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
        for task in list(self._tasks):
            task.cancel()
        await self.waker.close()
        await self.announcer.close()
        if self.session is not None:
            await self.session.close()

    def _session(self) -> aiohttp.ClientSession:
        assert self.session is not None, "the app has not started"
        return self.session

    def _wake(self, key: routes.FunctionKey) -> None:
        self.spawn(self.waker.wake(key))

    def spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> bool:
        """Take no new call; wait for calls in flight and queued (up to drainSeconds). True if all ended."""
        self.draining = True
        if self.journal is not None:
            self.journal.stop()  # entries not started stay in Redis for the next gateway
        deadline = time.monotonic() + self.settings.limits.drain_seconds
        while self.table.busy() or (self.journal is not None and self.journal.running):
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.02)
        return True

    # Calls ------------------------------------------------------------------------------------------

    async def call(self, request: web.Request) -> web.Response:
        started = time.monotonic()
        key = routes.FunctionKey(request.match_info["namespace"], request.match_info["name"])
        if self.draining:
            return routing.error(
                503, "ShuttingDown", "this gateway is draining; retry on another", **{"Retry-After": "1"}
            )
        if not calling.authorized(self.settings.namespaces, key.namespace, request):
            return routing.error(
                401,
                "Unauthorized",
                f"namespace {key.namespace!r} needs a valid 'Authorization: Bearer' token",
            )
        route = self.table.get(key)
        if route is None:
            return routing.error(404, "NotFound", f"no function {key} (known: {self.table.known()})")
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return self.accounting.count(
                route,
                started,
                routing.error(
                    413, "RequestTooLarge", f"the body is above {self.settings.limits.max_body_bytes} bytes"
                ),
            )
        if "respond-async" in request.headers.get("Prefer", ""):
            return await calling.accept(self.journal, route, body)
        response = await route.forward(self._session(), body, started)
        return self.accounting.count(route, started, response)

    async def call_status(self, request: web.Request) -> web.Response:
        return await calling.status(self.journal, self.settings.namespaces, request)

    # Reads ------------------------------------------------------------------------------------------

    async def list_functions(self, _: web.Request) -> web.Response:
        return web.json_response({
            "functions": [
                {"namespace": k.namespace, "name": k.name, "ready": r.balancer.ready,
                 "inflight": r.balancer.inflight, "queued": r.balancer.queued}
                for k, r in sorted(self.table.routes.items())
            ]
        })  # fmt: skip

    async def healthz(self, _: web.Request) -> web.Response:
        return web.json_response({"status": "alive"})

    async def readyz(self, _: web.Request) -> web.Response:
        if self.draining:
            return routing.error(503, "ShuttingDown", "draining")
        return web.json_response({"status": "ready", "functions": len(self.table.routes)})

    async def metrics(self, _: web.Request) -> web.Response:
        return web.Response(
            body=generate_latest(self.meters.registry), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )
