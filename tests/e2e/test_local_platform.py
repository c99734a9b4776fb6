"""The whole loop on one machine, on real servers: Prometheus, PostgreSQL, Redis, Celery, the sample app.

One platform run (tick 1 s, short windows) under a flash crowd and a burst of jobs, then calm:
- the queue backlog drives the Celery workers up, and back down once the queue is drained;
- the read load drives the read replicas up; the new replica really serves the app's reads (its own
  pg_stat_user_tables counts index scans of `items`, which only the app reads); it goes back down
  while reads keep coming, and no read fails;
- every scale event of the decision log shows in Prometheus' scaleplane_desired_replicas;
- postgres_exporter and redis_exporter run beside the primary and Redis: every Database and Cache
  dashboard query returns data but the ones that need a server the platform does not run;
- after the platform stops, none of the processes it ran is alive (checked by PID and start time).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from scaleplane.local import platform, runfiles, statefiles
from scaleplane.local.demo import loadgen
from scaleplane.local.pools import targetkinds
from scaleplane.local.servers import processes
from scaleplane.observability import boards, generating
from tests.support import waiting

pytestmark = [pytest.mark.servers, pytest.mark.slow, pytest.mark.timeout(400)]
# Panels of the Database and Cache boards with no data on one machine: it runs no Redis replica.
NO_LOCAL_SERVER = {"scaleplane-cache.json / Replication lag"}

WORKERS = f"""
apiVersion: scaleplane.io/v1alpha1
kind: ScalingPolicy
metadata: {{name: workers}}
spec:
  targetRef: {{kind: WorkerPool, name: workers}}
  minReplicas: 1
  maxReplicas: 4
  metrics:
    - name: backlog
      query: '{targetkinds.QUEUE_DEPTH_QUERY}'
      target: {{type: AverageValue, value: 10}}
  behavior:
    scaleUp: {{stabilizationWindowSeconds: 0, policies: [{{type: Pods, value: 4, periodSeconds: 5}}]}}
    scaleDown: {{stabilizationWindowSeconds: 5, policies: [{{type: Pods, value: 4, periodSeconds: 5}}]}}
  cooldownSeconds: 5
"""
READS = f"""
apiVersion: scaleplane.io/v1alpha1
kind: ScalingPolicy
metadata: {{name: read-replicas}}
spec:
  targetRef: {{kind: ReadReplicaPool, name: read-replicas}}
  minReplicas: 1
  maxReplicas: 2
  metrics:
    - name: reads
      query: '{targetkinds.READ_RATE_QUERY}'
      target: {{type: AverageValue, value: 40}}
  behavior:
    scaleUp: {{stabilizationWindowSeconds: 0, policies: [{{type: Pods, value: 1, periodSeconds: 5}}]}}
    scaleDown: {{stabilizationWindowSeconds: 5, policies: [{{type: Pods, value: 1, periodSeconds: 5}}]}}
  cooldownSeconds: 5
"""

# Only the sample app reads `items`; a replica's own statistics count the scans it served.
ITEM_SCANS = (
    "SELECT coalesce(idx_scan, 0) + coalesce(seq_scan, 0) FROM pg_stat_user_tables WHERE relname = 'items'"
)


def desired_in_prometheus(url: str, policy: str, start: float, end: float) -> list[tuple[float, int]]:
    response = requests.get(
        f"{url}/api/v1/query_range",
        params={
            "query": f'scaleplane_desired_replicas{{policy="{policy}"}}',
            "start": start,
            "end": end,
            "step": 1,
        },
        timeout=10,
    )
    result = response.json()["data"]["result"]
    return [(float(t), int(float(v))) for t, v in result[0]["values"]] if result else []


async def test_the_loop_scales_workers_and_replicas_up_and_down(workdir: Path) -> None:
    policies = workdir / "policies"
    policies.mkdir()
    (policies / "workers.yaml").write_text(WORKERS)
    (policies / "reads.yaml").write_text(READS)
    state_dir = workdir / "state"
    config = platform.PlatformConfig(state_dir=state_dir, policies=policies, tick_seconds=1.0)
    profile = loadgen.Profile(
        "e2e",
        "a flash crowd with a burst of jobs, then calm reads",
        (loadgen.Phase("flash crowd", 35, api_rps=110, jobs=160), loadgen.Phase("calm", 80, api_rps=8)),
        job_seconds=0.3,
    )
    seen: list[processes.PidRecord] = []
    started = time.time()
    async with platform.Platform(config) as running:
        stop = asyncio.Event()
        loop = asyncio.create_task(running.run(stop))
        workers = running.targets["WorkerPool/workers"]
        replicas = running.targets["ReadReplicaPool/read-replicas"]
        generator = loadgen.LoadGenerator(running.app_url, profile)
        load = asyncio.create_task(generator.run())
        try:

            async def workers_at(n: int) -> bool:
                count = await workers.read()
                return count.ready >= n if n > 1 else (count.current == count.ready == 1)

            async def replicas_at(n: int) -> bool:
                count = await replicas.read()
                return count.current == count.ready == n

            await waiting.eventually(
                lambda: workers_at(3), 45, "the backlog brings the workers to at least 3"
            )
            await waiting.eventually(lambda: replicas_at(2), 60, "the read load brings a second read replica")
            seen = runfiles.live_records(running.state_dir)

            newest = replicas.members["read-replicas-2"].handle  # type: ignore[attr-defined]

            async def replica_served() -> bool:
                return int(await asyncio.to_thread(newest.fetch_one, ITEM_SCANS) or 0) >= 20

            await waiting.eventually(replica_served, 20, "the new replica serves the app's reads")

            await waiting.eventually(
                lambda: workers_at(1), 70, "the workers go back to 1 once the queue is drained"
            )
            await waiting.eventually(
                lambda: replicas_at(1), 70, "the read replicas go back to 1 when the crowd is gone"
            )
            generator.stop()  # reads kept coming all through the scale-down; that is enough
            await load
            totals = generator.stats.totals()
            assert totals["failed"] == 0, generator.stats.errors
            assert totals["ok"] > 1000

            log = [d for d in statefiles.read_decisions(running.decisions_path) if d.get("scaled")]
            assert {d["policy"] for d in log if d["desired"] > d["current"]} == {"workers", "read-replicas"}
            assert {d["policy"] for d in log if d["desired"] < d["current"]} == {"workers", "read-replicas"}
            assert running.servers is not None
            prometheus_url = running.servers.prometheus.url

            def missing() -> list[tuple[dict[str, Any], set[int]]]:
                """Decisions whose desired count Prometheus did not scrape within 4 s of the decision."""
                found = []
                for d in log:
                    points = desired_in_prometheus(prometheus_url, d["policy"], started, time.time())
                    near = {v for t, v in points if d["at"] - 0.5 <= t <= d["at"] + 4}
                    if d["desired"] not in near:
                        found.append((d, near))
                return found

            # The last decisions' scrapes may still be on their way (a scrape a second): wait for them.
            with contextlib.suppress(AssertionError):
                await waiting.eventually(
                    lambda: asyncio.to_thread(lambda: not missing()), 6, "every decision scraped"
                )
            assert missing() == []
            changes = {
                (p, v)
                for p in ("workers", "read-replicas")
                for _, v in desired_in_prometheus(running.servers.prometheus.url, p, started, time.time())
            }
            logged = {(d["policy"], d["desired"]) for d in log} | {(d["policy"], d["current"]) for d in log}
            assert changes <= logged, changes - logged
            assert running.servers is not None
            empty = set()
            for name in ("scaleplane-database.json", "scaleplane-cache.json"):
                for title, expr in boards.expressions(generating.dashboards()[name]):
                    expr = expr.replace("$__rate_interval", "1m").replace('"$policy"', '".*"')
                    if not running.servers.prometheus.query_vector(expr):
                        empty.add(f"{name} / {title}")
            assert empty == NO_LOCAL_SERVER
        finally:
            stop.set()
            await loop
            if not load.done():
                load.cancel()

    assert seen, "no process was recorded while the platform ran"
    names = {r.name for r in seen}
    assert {"prometheus", "redis", "postgres-primary", "sample-app", "watchdog", "read-replicas-2"} <= names
    assert {"postgres-exporter", "redis-exporter"} <= names
    assert [r.name for r in seen if r.name != "controller" and processes.alive(r)] == []
    assert runfiles.live_records(state_dir) == []
