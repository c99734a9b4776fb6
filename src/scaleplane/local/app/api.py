"""The sample HTTP API: reads items through the read pool, caches them in Redis, enqueues Celery jobs.

    GET  /items/{id}          one item: Redis first, then a read on the read pool (cached for CACHE_TTL)
    POST /jobs?count=N&work=S enqueue N jobs of S seconds each on the Celery queue
    GET  /readpool            the members reads go to now, and the reads in flight on each
    GET  /healthz             200 once the primary answers
    GET  /metrics             Prometheus text: requests, latency, reads per member, cache, jobs

Run by the platform as `python -m scaleplane.local.app.api --port P --primary DSN --redis URL
--read-pool-file F` (the Celery broker comes from SCALEPLANE_BROKER_URL, see `jobs`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent import futures
from pathlib import Path

import prometheus_client as prom
import psycopg
import redis.asyncio as aioredis
from aiohttp import web

from scaleplane.local.app import jobs, readpool

CACHE_TTL_SECONDS = 2  # short on purpose: most reads of the demo's wide key space reach the database
ITEM_ROWS = 20_000
MAX_JOBS_PER_REQUEST = 5_000
ITEM_QUERY = "SELECT id, name, md5(payload) FROM items WHERE id = %s"
SCHEMA = """
CREATE TABLE IF NOT EXISTS items (id integer PRIMARY KEY, name text NOT NULL, payload text NOT NULL);
INSERT INTO items SELECT g, 'item-' || g, repeat(md5(g::text), 8) FROM generate_series(1, %s) AS g
ON CONFLICT (id) DO NOTHING;
"""


class Metrics:
    """The app's own metrics, on a registry of its own (nothing global, so tests can build two apps)."""

    def __init__(self) -> None:
        self.registry = prom.CollectorRegistry()
        r = self.registry
        self.requests = prom.Counter("sample_http_requests", "HTTP requests", ["route", "status"], registry=r)
        self.latency = prom.Histogram(
            "sample_http_request_seconds",
            "HTTP request latency",
            ["route"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
            registry=r,
        )
        self.reads = prom.Counter(
            "sample_db_reads", "Database reads by read-pool member", ["member"], registry=r
        )
        self.read_errors = prom.Counter(
            "sample_db_read_errors", "Reads that failed on a member (then retried)", ["member"], registry=r
        )
        self.cache = prom.Counter("sample_cache_lookups", "Redis cache lookups", ["result"], registry=r)
        self.jobs = prom.Counter("sample_jobs_enqueued", "Celery jobs enqueued", registry=r)
        self.members = prom.Gauge("sample_read_pool_members", "Replicas in the read pool", registry=r)


async def ensure_schema(primary_dsn: str, rows: int = ITEM_ROWS) -> None:
    """Create and seed the items table on the primary (idempotent); replicas receive it by streaming."""
    async with await psycopg.AsyncConnection.connect(primary_dsn, autocommit=True) as conn:
        await conn.execute(SCHEMA.replace("%s", str(int(rows))))


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def build_app(pool: readpool.ReadPool, cache: aioredis.Redis, metrics: Metrics) -> web.Application:
    enqueuer = futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="enqueue")

    @web.middleware
    async def measure(request: web.Request, handler: Handler) -> web.StreamResponse:
        route = request.match_info.route.resource.canonical if request.match_info.route.resource else "?"
        started = time.perf_counter()
        status = 500
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as exc:
            status = exc.status
            raise
        finally:
            if route != "/metrics":
                metrics.requests.labels(route, str(status)).inc()
                metrics.latency.labels(route).observe(time.perf_counter() - started)

    async def item(request: web.Request) -> web.Response:
        try:
            item_id = int(request.match_info["id"])
        except ValueError:
            raise web.HTTPBadRequest(
                text=f"id must be an integer, was {request.match_info['id']!r}"
            ) from None
        key = f"item:{item_id}"
        cached = await cache.get(key)
        if cached is not None:
            metrics.cache.labels("hit").inc()
            return web.Response(body=cached, content_type="application/json")
        metrics.cache.labels("miss").inc()
        member, row, failed = await pool.fetch_one(ITEM_QUERY, (item_id,))
        for name in failed:
            metrics.read_errors.labels(name).inc()
        metrics.reads.labels(member).inc()
        if row is None:
            raise web.HTTPNotFound(text=f"no item {item_id}")
        body = web.json_response({"id": row[0], "name": row[1], "digest": row[2], "from": member})
        await cache.set(key, body.body, ex=CACHE_TTL_SECONDS)  # type: ignore[arg-type]
        return body

    async def enqueue(request: web.Request) -> web.Response:
        try:
            count = int(request.query.get("count", "1"))
            work = float(request.query.get("work", str(jobs.DEFAULT_WORK_SECONDS)))
        except ValueError:
            raise web.HTTPBadRequest(text="count must be an integer and work a number of seconds") from None
        if not 1 <= count <= MAX_JOBS_PER_REQUEST or not 0 <= work <= 30:
            raise web.HTTPBadRequest(
                text=f"count must be 1..{MAX_JOBS_PER_REQUEST} and work 0..30, was {count} and {work}"
            )

        def send() -> None:
            for i in range(count):
                jobs.process.apply_async(args=(i, work), queue=jobs.QUEUE)

        await asyncio.get_running_loop().run_in_executor(enqueuer, send)
        metrics.jobs.inc(count)
        return web.json_response({"enqueued": count}, status=202)

    async def members(_: web.Request) -> web.Response:
        return web.json_response({"members": pool.members, "inFlight": pool.in_flight})

    async def health(_: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def scrape(_: web.Request) -> web.Response:
        metrics.members.set(len(pool.members))
        return web.Response(body=prom.generate_latest(metrics.registry), content_type="text/plain")

    app = web.Application(middlewares=[measure])
    app.add_routes(
        [
            web.get("/items/{id}", item),
            web.post("/jobs", enqueue),
            web.get("/readpool", members),
            web.get("/healthz", health),
            web.get("/metrics", scrape),
        ]
    )

    async def lifecycle(_: web.Application) -> AsyncIterator[None]:
        await pool.open()
        watcher = asyncio.create_task(pool.watch())
        yield
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher
        await pool.close()
        await cache.aclose()
        enqueuer.shutdown(wait=False)

    app.cleanup_ctx.append(lifecycle)
    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m scaleplane.local.app.api", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--primary", required=True, help="libpq DSN of the primary")
    parser.add_argument("--redis", required=True, help="Redis URL of the cache")
    parser.add_argument("--read-pool-file", type=Path, default=None)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    prom.disable_created_metrics()  # type: ignore[no-untyped-call] # the `_created` series only double what Prometheus stores
    asyncio.run(ensure_schema(args.primary))
    pool = readpool.ReadPool(args.primary, args.read_pool_file)
    app = build_app(pool, aioredis.from_url(args.redis), Metrics())
    web.run_app(app, host=args.host, port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
