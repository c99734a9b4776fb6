"""The function runtime: one HTTP server around one handler, what every function instance runs.

    python -m scaleplane.functions.hosting --handler hello.py:main --port 8080 [--namespace demo --name hello]

    POST /invoke    JSON object of parameters -> 200 {"result": ...}; errors {"error": {"code", "message"}}
    GET  /healthz   200 while the process lives (liveness)
    GET  /readyz    200 once the handler is loaded and while not draining, else 503 (readiness)
    GET  /metrics   scaleplane_function_inflight_requests and scaleplane_function_requests_total, the
                    per-replica series a cluster's Function policy reads (operator.manifests.functions)

The handler is loaded before the port opens, so a probe that answers means the code imported. On
SIGTERM (or SIGINT) the runtime drains: /readyz answers 503 at once (routers stop sending), calls in
flight finish (at most `--drain-seconds`), then the server closes and the process exits 0.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import signal
import sys
from typing import Any

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from scaleplane.functions import handlers

log = logging.getLogger("scaleplane.function")
DEFAULT_MAX_BODY = 1024 * 1024


class Runtime:
    def __init__(self, handler: handlers.Handler, *, namespace: str = "default", name: str = "function"):
        self.handler = handler
        self.draining = False
        self.inflight = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self.registry = CollectorRegistry()
        labels = {"namespace": namespace, "function": name}
        self._inflight_gauge = Gauge(
            "scaleplane_function_inflight_requests", "Calls being served now", list(labels),
            registry=self.registry,
        ).labels(**labels)  # fmt: skip
        self._requests = Counter(
            "scaleplane_function_requests", "Calls served, by outcome", [*labels, "outcome"],
            registry=self.registry,
        )  # fmt: skip
        self._labels = labels
        for outcome in ("ok", "error"):
            self._requests.labels(**labels, outcome=outcome)

    def app(self, max_body: int = DEFAULT_MAX_BODY) -> web.Application:
        app = web.Application(client_max_size=max_body)
        app.router.add_post("/invoke", self.invoke)
        app.router.add_get("/healthz", self.healthz)
        app.router.add_get("/readyz", self.readyz)
        app.router.add_get("/metrics", self.metrics)
        return app

    async def invoke(self, request: web.Request) -> web.Response:
        self.inflight += 1
        self._idle.clear()
        self._inflight_gauge.set(self.inflight)
        try:
            status, body = await self._call(request)
        finally:
            self.inflight -= 1
            self._inflight_gauge.set(self.inflight)
            if self.inflight == 0:
                self._idle.set()
        self._requests.labels(**self._labels, outcome="ok" if status < 400 else "error").inc()
        return web.json_response(body, status=status)

    async def _call(self, request: web.Request) -> tuple[int, Any]:
        try:
            raw = await request.read()
            params = json.loads(raw) if raw.strip() else {}
        except web.HTTPRequestEntityTooLarge:
            failure = handlers.Failure(413, "RequestTooLarge", "the body is above this runtime's --max-body")
            return failure.status, failure.body()
        except ValueError as exc:
            return 400, handlers.Failure(400, "BadRequest", f"the body is not JSON: {exc}").body()
        try:
            result = await self.handler.call(params)
            return 200, {"result": handlers.to_json(result)}
        except Exception as exc:
            failure = handlers.failure_of(exc)
            if failure.status >= 500:
                log.exception("%s failed", self.handler.reference)
            return failure.status, failure.body()

    async def healthz(self, _: web.Request) -> web.Response:
        return web.json_response({"status": "alive"})

    async def readyz(self, _: web.Request) -> web.Response:
        if self.draining:
            return web.json_response({"status": "draining"}, status=503)
        return web.json_response({"status": "ready", "handler": self.handler.reference})

    async def metrics(self, _: web.Request) -> web.Response:
        return web.Response(
            body=generate_latest(self.registry), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )

    async def drain(self, timeout: float) -> bool:
        """Stop being ready, then wait for the calls in flight; True when they all finished in time."""
        self.draining = True
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
        except TimeoutError:
            return False
        return True


async def serve(runtime: Runtime, host: str, port: int, *, drain_seconds: float, max_body: int) -> None:
    runner = web.AppRunner(runtime.app(max_body), access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, host, port, reuse_address=True)
    await site.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    log.info("%s serving on http://%s:%d", runtime.handler.reference, host, port)
    await stop.wait()
    drained = await runtime.drain(drain_seconds)
    if not drained:
        log.warning(
            "drain: %d call(s) still running after %g s; stopping anyway", runtime.inflight, drain_seconds
        )
    await runner.cleanup()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m scaleplane.functions.hosting", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--handler", required=True, help="FILE.py[:FUNCTION] or MODULE[:FUNCTION]")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--namespace", default="default")
    parser.add_argument(
        "--name", default=None, help="the function's name in the series (default: the file's)"
    )
    parser.add_argument("--drain-seconds", type=float, default=30.0)
    parser.add_argument("--max-body", type=int, default=DEFAULT_MAX_BODY, help="largest request body, bytes")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        handler = handlers.load(args.handler)
    except handlers.HandlerNotFound as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # the handler's own import failed: say so in one line, as a bad input
        print(
            f"error: handler {args.handler}: importing it raised {type(exc).__name__}: {exc}", file=sys.stderr
        )
        return 2
    name = args.name or args.handler.partition(":")[0].rsplit("/", 1)[-1].removesuffix(".py")
    runtime = Runtime(handler, namespace=args.namespace, name=name)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(
            serve(runtime, args.host, args.port, drain_seconds=args.drain_seconds, max_body=args.max_body)
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
