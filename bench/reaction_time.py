"""Closed-loop reaction time of the local platform: a load step -> enough READY capacity, on real servers.

What one step is (repeated `--steps` times, each at a random phase of the tick):
  workers   40 jobs of 4 s land on the Celery queue at once (POST /jobs). The bench policy holds the
            backlog at 10 jobs per worker, so enough capacity is 4 ready workers (from 1).
  replicas  the API's read rate steps from 5/s to 120/s. The bench policy holds reads at 40/s per
            replica, so enough capacity is 3 ready read replicas (from 1): each a pg_basebackup of
            the primary, streaming and caught up, in the app's read pool.
Measured per step: `detect` = step -> the first decision that scales (log time), `ready` = step -> the
pool reports the needed count ready. Between steps the queue is emptied / the load stops and the pool
is let back to 1 (short down windows in the bench policies).

KEDA's defaults for comparison (not run here: no cluster): KEDA polls a scaler every 30 s
(`pollingInterval`) and the HPA syncs every 15 s (`--horizontal-pod-autoscaler-sync-period`). A step
lands at a uniformly random phase of both, so the detection delay is U(0,30) + U(0,15): median 22.5 s,
p95 38.3 s (the sum's CDF near the top is 1 - (45 - s)^2 / 900). Add the same start-up as measured
here (decision -> ready) to compare whole reaction times; the table does that by convolving the two
(Monte Carlo, fixed seed).

    uv run python bench/reaction_time.py [--steps 8] [--tick 5] [--kinds workers,replicas]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import redis as redis_client
import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import recording
from scaleplane.local import platform, statefiles
from scaleplane.local.demo import loadgen
from scaleplane.local.pools import targetkinds

KEDA_POLLING, HPA_SYNC = 30.0, 15.0
POLICIES = {
    "workers": f"""
apiVersion: scaleplane.io/v1alpha1
kind: ScalingPolicy
metadata: {{name: workers}}
spec:
  targetRef: {{kind: WorkerPool, name: workers}}
  minReplicas: 1
  maxReplicas: 4
  metrics:
    - {{name: backlog, query: '{targetkinds.QUEUE_DEPTH_QUERY}', target: {{type: AverageValue, value: 10}}}}
  behavior:
    scaleDown: {{stabilizationWindowSeconds: 3, policies: [{{type: Pods, value: 4, periodSeconds: 3}}]}}
  cooldownSeconds: 3
""",
    "replicas": f"""
apiVersion: scaleplane.io/v1alpha1
kind: ScalingPolicy
metadata: {{name: read-replicas}}
spec:
  targetRef: {{kind: ReadReplicaPool, name: read-replicas}}
  minReplicas: 1
  maxReplicas: 3
  metrics:
    - {{name: reads, query: '{targetkinds.READ_RATE_QUERY}', target: {{type: AverageValue, value: 40}}}}
  behavior:
    scaleDown: {{stabilizationWindowSeconds: 3, policies: [{{type: Pods, value: 3, periodSeconds: 3}}]}}
  cooldownSeconds: 3
""",
}
NEEDED = {"workers": 4, "replicas": 3}
POLICY_NAME = {"workers": "workers", "replicas": "read-replicas"}
TARGET = {"workers": "WorkerPool/workers", "replicas": "ReadReplicaPool/read-replicas"}


@dataclass(frozen=True)
class Step:
    kind: str
    detect: float | None
    ready: float


async def until(check: Callable[[], Awaitable[bool]], timeout: float) -> float:
    started = time.monotonic()
    while not await check():
        if time.monotonic() - started > timeout:
            raise TimeoutError(f"not within {timeout:g} s")
        await asyncio.sleep(0.05)
    return time.monotonic() - started


async def one_step(running: platform.Platform, kind: str, rng: random.Random) -> Step:
    target = running.targets[TARGET[kind]]

    async def at_one() -> bool:
        count = await target.read()
        return count.current == count.ready == 1

    await until(at_one, 120)
    await asyncio.sleep(3 + rng.uniform(0, running.config.tick_seconds))  # a random phase of the tick
    broker = redis_client.Redis.from_url(running.broker_url)
    generator: loadgen.LoadGenerator | None = None
    load: asyncio.Task[loadgen.Stats] | None = None
    stepped = time.time()
    if kind == "workers":
        requests.post(
            f"{running.app_url}/jobs", params={"count": 40, "work": 4}, timeout=10
        ).raise_for_status()
    else:
        phase = loadgen.Phase("step", 120, api_rps=120)
        generator = loadgen.LoadGenerator(running.app_url, loadgen.Profile("step", "a read step", (phase,)))
        load = asyncio.create_task(generator.run())

    async def enough() -> bool:
        return (await target.read()).ready >= NEEDED[kind]

    try:
        ready = await until(enough, 150)
    finally:
        if generator is not None and load is not None:
            generator.stop()
            await load
        broker.delete("jobs")  # the backlog is gone: the pool may go back to 1 for the next step
        broker.close()
    scaled = [
        d
        for d in statefiles.read_decisions(running.decisions_path)
        if d.get("policy") == POLICY_NAME[kind] and d.get("scaled") and float(d["at"]) >= stepped
    ]
    detect = float(scaled[0]["at"]) - stepped if scaled else None
    return Step(kind, detect, ready)


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    return statistics.quantiles(ordered, n=100, method="inclusive")[round(q * 100) - 1]


def keda_like(startups: list[float], rng: random.Random, n: int = 20000) -> list[float]:
    return [rng.uniform(0, KEDA_POLLING) + rng.uniform(0, HPA_SYNC) + rng.choice(startups) for _ in range(n)]


async def run(kinds: list[str], steps: int, tick: float) -> list[Step]:
    root = Path(tempfile.mkdtemp(prefix="scaleplane-bench-"))
    root.chmod(0o755)
    policies = root / "policies"
    policies.mkdir()
    for kind in kinds:
        (policies / f"{kind}.yaml").write_text(POLICIES[kind])
    rng = random.Random(4)
    results: list[Step] = []
    try:
        config = platform.PlatformConfig(state_dir=root / "state", policies=policies, tick_seconds=tick)
        async with platform.Platform(config) as running:
            stop = asyncio.Event()
            loop = asyncio.create_task(running.run(stop))
            try:
                for i in range(steps):
                    for kind in kinds:
                        step = await one_step(running, kind, rng)
                        results.append(step)
                        print(
                            f"step {i + 1}/{steps} {kind}: detect {step.detect} s, ready {step.ready:.1f} s"
                        )
            finally:
                stop.set()
                await loop
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return results


def table(results: list[Step], tick: float) -> str:
    rng = random.Random(7)
    rows = [
        "| target | steps | needed (from 1) | detect p50 / p95 (s) | ready p50 / p95 (s) "
        "| start-up p50 (s) | KEDA defaults, modelled: ready p50 / p95 (s) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for kind in dict.fromkeys(r.kind for r in results):
        mine = [r for r in results if r.kind == kind]
        ready = [r.ready for r in mine]
        detect = [r.detect for r in mine if r.detect is not None]
        startups = [r.ready - r.detect for r in mine if r.detect is not None] or [0.0]
        keda = keda_like(startups, rng)
        rows.append(
            f"| {TARGET[kind]} | {len(mine)} | {NEEDED[kind]} "
            f"| {quantile(detect, 0.5):.1f} / {quantile(detect, 0.95):.1f} "
            f"| {quantile(ready, 0.5):.1f} / {quantile(ready, 0.95):.1f} "
            f"| {statistics.median(startups):.1f} "
            f"| {quantile(keda, 0.5):.1f} / {quantile(keda, 0.95):.1f} |"
        )
    return "\n".join(rows)


def explanation(tick: float) -> str:
    return f"""
Load step -> enough ready capacity, on the local platform's real servers (Prometheus scraping
every 1 s, the controller ticking every {tick:g} s, the default of `scaleplane local up`).
`detect` is the step to the first decision that scales; `ready` is the step to the needed count
serving (Celery workers consuming; read replicas streaming, caught up and in the app's read pool);
start-up = ready - detect. Steps land at random phases of the tick; p95 over a handful of steps is
an interpolated order statistic, read it as "the slow end".

The arithmetic of `detect` here: the step waits U(0,{tick:g}) s for the next tick (median {tick / 2:g} s)
plus up to 1 s for the next scrape; the read policy also waits for its `rate(...[10s])` to climb past
the target (a few seconds), the queue policy does not (a queue's length is there at once).

KEDA's defaults are modelled, not run (no cluster here): the scaler is polled every {KEDA_POLLING:g} s and
the HPA syncs every {HPA_SYNC:g} s, so a step waits U(0,{KEDA_POLLING:g}) + U(0,{HPA_SYNC:g}) before the
first scale: median 22.5 s, p95 38.3 s (near the top the sum's CDF is 1 - (45 - s)^2 / 900; = 0.95 at
s = 38.3). The last column adds this platform's measured start-ups to that wait (Monte Carlo, fixed
seed). With KEDA 2.x the HPA's metric request may reach the scaler directly (no `useCachedMetrics`),
which makes 1 -> N wait only the 15 s sync (median 7.5 s, p95 14.25 s) while 0 -> 1 activation still
waits for the polling interval.
""".strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--tick", type=float, default=platform.DEFAULT_TICK_SECONDS)
    parser.add_argument("--kinds", default="workers,replicas")
    parser.add_argument("--no-record", action="store_true", help="print only; leave docs/benchmarks.md alone")
    args = parser.parse_args()
    kinds = [k.strip() for k in args.kinds.split(",") if k.strip()]
    unknown = sorted(set(kinds) - set(POLICIES))
    if unknown:
        parser.error(f"--kinds must name workers and/or replicas, was {', '.join(unknown)}")
    results = asyncio.run(run(kinds, args.steps, args.tick))
    body = table(results, args.tick)
    print(body)
    if not args.no_record:
        recording.record(
            "reaction-time", "## Closed-loop reaction time", explanation(args.tick) + "\n\n" + body
        )


if __name__ == "__main__":
    main()
