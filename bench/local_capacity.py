"""How fast the local platform's real capacity appears and goes: servers from cold, and each pool's
scale-up (request -> ready) and scale-down (request -> stopped), p50/p95 over repeats; recorded in
docs/benchmarks.md ("Local platform: time to capacity").

    uv run python bench/local_capacity.py [--repeats 5]

These are the actuation half of the closed loop's reaction time (load step -> enough ready capacity):
the other half is the metric pipeline (scrape interval + rate window) and the controller's tick.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import recording
from scaleplane.local.pools import functions, members, replicas, workers
from scaleplane.local.servers import postgres, prometheus, redis


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def timed(action: Callable[[], Awaitable[object]]) -> float:
    began = time.perf_counter()
    await action()
    return time.perf_counter() - began


async def pool_cycle(pool: members.Pool, base: int, repeats: int) -> tuple[list[float], list[float]]:
    """`repeats` times: base -> base+1 (until ready), then back to base (until the member stopped)."""
    await pool.open(base)
    await pool.wait_ready(base, timeout=120)
    ups, downs = [], []
    try:
        for _ in range(repeats):

            async def up() -> None:
                await pool.scale(base + 1)
                await pool.wait_ready(base + 1, timeout=120)

            async def down() -> None:
                await pool.scale(base)
                await pool.wait_ready(base, timeout=120)

            ups.append(await timed(up))
            downs.append(await timed(down))
    finally:
        await pool.close()
    return ups, downs


async def run(root: Path, repeats: int) -> list[tuple[str, str, list[float]]]:
    rows: list[tuple[str, str, list[float]]] = []
    began = time.perf_counter()
    prom = prometheus.PrometheusServer(root / "prometheus").start()
    prom_ready = time.perf_counter() - began
    try:
        began = time.perf_counter()
        prom.add_target("self", f"127.0.0.1:{prom.port}")
        prom.wait_for('up{job="self"}', lambda v: v == 1, timeout=60)
        rows.append(("Prometheus", "start -> /-/ready", [prom_ready]))
        rows.append(("Prometheus", "add_target -> first sample (1 s scrape)", [time.perf_counter() - began]))

        began = time.perf_counter()
        cache = redis.RedisServer(root / "redis").start()
        rows.append(("Redis", "start -> PONG", [time.perf_counter() - began]))
        began = time.perf_counter()
        primary = postgres.PostgresServer(root / "primary", name="primary").start()
        rows.append(("PostgreSQL primary", "initdb + start -> accepting", [time.perf_counter() - began]))
        try:
            state = root / "state"
            worker_pool = workers.WorkerPool("workers", state, broker_url=cache.url, drain_timeout=30)
            ups, downs = await pool_cycle(worker_pool, 1, repeats)
            rows.append(("WorkerPool (Celery, solo)", "1 -> 2: request -> worker_ready", ups))
            rows.append(("WorkerPool (Celery, solo)", "2 -> 1: request -> warm shutdown done (idle)", downs))

            replica_pool = replicas.ReadReplicaPool(
                "readers", state, primary=primary, read_pool_file=state / "readpool.json", grace=1.0
            )
            ups, downs = await pool_cycle(replica_pool, 0, repeats)
            rows.append(("ReadReplicaPool", "0 -> 1: pg_basebackup, streaming, caught up, in read pool", ups))
            rows.append(("ReadReplicaPool", "1 -> 0: out of read pool, 1 s grace, drained, stopped", downs))

            command = [
                sys.executable,
                "-m",
                "http.server",
                "{port}",
                "--bind",
                "127.0.0.1",
                "--directory",
                str(root),
            ]
            function_pool = functions.FunctionPool("fn", state, command=command, grace=0.2)
            ups, downs = await pool_cycle(function_pool, 0, repeats)
            rows.append(("FunctionPool (python http.server)", "0 -> 1: request -> answers HTTP", ups))
            rows.append(
                ("FunctionPool (python http.server)", "1 -> 0: request -> stopped (0.2 s grace)", downs)
            )
        finally:
            primary.stop()
            cache.stop()
    finally:
        prom.stop()
    return rows


def table(rows: list[tuple[str, str, list[float]]]) -> str:
    lines = ["| component | step | n | p50 s | p95 s | max s |", "|---|---|---:|---:|---:|---:|"]
    for component, step, values in rows:
        lines.append(
            f"| {component} | {step} | {len(values)} | {statistics.median(values):.2f} "
            f"| {percentile(values, 0.95):.2f} | {max(values):.2f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="scaleplane-bench-"))
    root.chmod(0o755)  # the postgres user must traverse it
    load_before = os.getloadavg()[0]
    try:
        rows = asyncio.run(run(root, args.repeats))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    body = table(rows)
    print(body)
    note = (
        f"Real servers and processes on 127.0.0.1, {args.repeats} up/down cycles per pool. "
        f"Load average at start: {load_before:.1f} (the machine is shared; other work inflates these). "
        "Scale-down of workers is measured idle (a busy worker first finishes its job). "
        "Add the metric pipeline (1 s scrape, rate window) and the controller tick to get the loop's "
        "reaction time."
    )
    recording.record(
        "local-capacity",
        "## Local platform: time to capacity",
        f"{note}\n\n{body}",
        command=f"uv run python bench/local_capacity.py --repeats {args.repeats}",
    )


if __name__ == "__main__":
    main()
