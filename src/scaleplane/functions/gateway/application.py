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

What happens to a call once admitted, and the one retry the gateway makes, is routing.

Shutdown drains: /readyz turns 503 and new calls answer 503 ShuttingDown, calls in flight and queued
finish (up to drainSeconds), then the server closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import time
from typing import Any

import aiohttp
from aiohttp import web
from prometheus_client import generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from scaleplane.functions import announcing, instruments, routes
from scaleplane.functions.gateway import journaling, routing, settings, waking

log = logging.getLogger("scaleplane.gateway")
POLL_SECONDS = 0.02


class Gateway:
    def __init__(self, config: settings.GatewaySettings, *, waker: waking.Waker | None = None) -> None:
        self.settings = config
        self.source: Any
        if config.kubernetes is not None:
            from scaleplane.functions.gateway import cluster

            api = cluster.api_client(config.kubernetes.server)
            self.source = cluster.EndpointSliceRoutes(
                api, config.kubernetes.namespaces, poll_seconds=config.kubernetes.poll_seconds
            )
            default_waker: waking.Waker = cluster.KubernetesWaker(api)
        else:
            assert config.routes is not None
            self.source = routes.RouteDirectory(config.routes)
            default_waker = waking.HttpWaker(config.wake_url) if config.wake_url else waking.NullWaker()
        self.waker = waker or default_waker
        self.meters = instruments.GatewayMeters()
        self.announcer = announcing.Announcer(config.hooks, source=f"/scaleplane/gateway/{config.listen}")
        self.routes: dict[routes.FunctionKey, routing.Route] = {}
        self.draining = False
        self.gone: set[routes.FunctionKey] = set()
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
        await self.refresh()
        self._poller = asyncio.get_running_loop().create_task(self._poll())
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
        route = self.routes.get(key) if key not in self.gone else None
        if route is None:
            answer = routing.error(404, "NotFound", f"no function {key}")
        else:
            started = time.monotonic()
            answer = self._count(route, started, await route.forward(self._session(), body, started))
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

    def _waker_for(self, key: routes.FunctionKey) -> Any:
        return lambda: self.spawn(self.waker.wake(key))

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
        while any(r.balancer.inflight or r.balancer.queued for r in self.routes.values()) or (
            self.journal is not None and self.journal.running
        ):
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.02)
        return True

    # The route table --------------------------------------------------------------------------------

    async def refresh(self) -> None:
        """Read the route table (a file stat per function locally; API calls, in a thread, in a cluster)."""
        if getattr(self.source, "blocking", False):
            table, changed = await asyncio.to_thread(self.source.scan)
        else:
            table, changed = self.source.scan()
        # A function that left the table takes no new call (404); its route goes once its calls ended.
        self.gone = set(self.routes) - set(table)
        for key in self.gone:
            if not (self.routes[key].balancer.inflight or self.routes[key].balancer.queued):
                del self.routes[key]
                self.meters.forget(key.namespace, key.name)
        if changed:
            for key, urls in table.items():
                if key not in self.routes:
                    self.routes[key] = routing.Route(
                        key, self.settings.limits, self.meters, self._waker_for(key)
                    )
                    self.meters.known(key.namespace, key.name)
                self.routes[key].update(urls)

    async def _poll(self) -> None:
        every = getattr(self.source, "poll_seconds", POLL_SECONDS)
        last = 0.0
        while True:
            if time.monotonic() - last >= every:
                last = time.monotonic()
                try:
                    await self.refresh()
                except Exception as exc:  # a bad file, an API error: keep routing with the last table
                    log.warning("reading the routes failed: %s", exc)
            for route in self.routes.values():
                route.tick()
            await asyncio.sleep(POLL_SECONDS)

    # Calls ------------------------------------------------------------------------------------------

    def _authorized(self, namespace: str, request: web.Request) -> bool:
        config = self.settings.namespaces.get(namespace)
        if config is None or not config.tokens:
            return True
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        return any(hmac.compare_digest(given.encode(), token.encode()) for token in config.tokens)

    async def call(self, request: web.Request) -> web.Response:
        started = time.monotonic()
        key = routes.FunctionKey(request.match_info["namespace"], request.match_info["name"])
        if self.draining:
            return routing.error(
                503, "ShuttingDown", "this gateway is draining; retry on another", **{"Retry-After": "1"}
            )
        if not self._authorized(key.namespace, request):
            return routing.error(
                401,
                "Unauthorized",
                f"namespace {key.namespace!r} needs a valid 'Authorization: Bearer' token",
            )
        route = self.routes.get(key) if key not in self.gone else None
        if route is None:
            return routing.error(
                404,
                "NotFound",
                f"no function {key} (known: {', '.join(map(str, sorted(self.routes))) or 'none'})",
            )
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return self._count(
                route,
                started,
                routing.error(
                    413, "RequestTooLarge", f"the body is above {self.settings.limits.max_body_bytes} bytes"
                ),
            )
        if "respond-async" in request.headers.get("Prefer", ""):
            return await self._accept(route, body)
        response = await route.forward(self._session(), body, started)
        return self._count(route, started, response)

    async def _accept(self, route: routing.Route, body: bytes) -> web.Response:
        if self.journal is None:
            return routing.error(
                501, "AsyncNotEnabled", "this gateway has no journal (settings: journal) for async calls"
            )
        try:
            call_id = await self.journal.accept(route.key, body)
        except Exception as exc:  # Redis down: the call was not stored, so it is not acknowledged
            return routing.error(
                503,
                "JournalUnavailable",
                f"the call could not be stored ({exc}); retry",
                **{"Retry-After": "1"},
            )
        location = f"/v1/calls/{call_id}"
        return web.json_response(
            {"id": call_id, "status": "accepted", "location": location},
            status=202,
            headers={"Location": location},
        )

    async def call_status(self, request: web.Request) -> web.Response:
        if self.journal is None:
            return routing.error(501, "AsyncNotEnabled", "this gateway has no journal for async calls")
        found = await self.journal.status(request.match_info["id"])
        if found is not None and not self._authorized(
            str(found.get("function") or "").partition("/")[0], request
        ):
            found = None  # another namespace's call: as if it did not exist
            return routing.error(
                404, "NotFound", f"no call {request.match_info['id']} (results are kept a day)"
            )
        return web.json_response(found)

    def _count(self, route: routing.Route, started: float, response: web.Response) -> web.Response:
        labels = (route.key.namespace, route.key.name)
        took = time.monotonic() - started
        self.meters.requests.labels(*labels, str(response.status)).inc()
        self.meters.duration.labels(*labels).observe(took)
        if response.status >= 500 or response.status == 429:
            self._announce_failure(route, response, took)
        return response

    def _announce_failure(self, route: routing.Route, response: web.Response, took: float) -> None:
        try:
            problem = json.loads(bytes(response.body or b"{}")).get("error") or {}  # type: ignore[arg-type]
        except ValueError:
            problem = {}
        self.announcer.offer(
            "invocation.failed",
            str(route.key),
            {
                "function": str(route.key),
                "status": response.status,
                "code": problem.get("code"),
                "message": str(problem.get("message", ""))[:500],
                "durationSeconds": round(took, 4),
            },
        )

    # Reads ------------------------------------------------------------------------------------------

    async def list_functions(self, _: web.Request) -> web.Response:
        return web.json_response({
            "functions": [
                {"namespace": k.namespace, "name": k.name, "ready": r.balancer.ready,
                 "inflight": r.balancer.inflight, "queued": r.balancer.queued}
                for k, r in sorted(self.routes.items())
            ]
        })  # fmt: skip

    async def healthz(self, _: web.Request) -> web.Response:
        return web.json_response({"status": "alive"})

    async def readyz(self, _: web.Request) -> web.Response:
        if self.draining:
            return routing.error(503, "ShuttingDown", "draining")
        return web.json_response({"status": "ready", "functions": len(self.routes)})

    async def metrics(self, _: web.Request) -> web.Response:
        return web.Response(
            body=generate_latest(self.meters.registry), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )
