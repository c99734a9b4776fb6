"""Less load on the API server, against kmock and a real Prometheus: a steady policy's status is
written when something a user reads changed and once per heartbeat, not every tick; an error that
repeats every tick is one Event whose count goes up, not one Event per tick (nor one Event, ever).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from tests.support import operating
from tests.support.operating import DEPLOYMENT, POLICY
from tests.support.waiting import eventually

pytestmark = [pytest.mark.servers, pytest.mark.slow]
TICK, HEARTBEAT = 0.5, 2.0


def _status_writes(cluster: Any, ns: str, name: str) -> int:
    path = f"/namespaces/{ns}/scalingpolicies/{name}/status"
    return sum(
        1 for r in cluster if str(r.method.value).upper() == "PATCH" and str(r.url.path).endswith(path)
    )


def _status(cluster: Any, ns: str, name: str) -> dict[str, Any]:
    return (cluster.read_object(POLICY, ns, name) or {}).get("status") or {}


def _events(cluster: Any, name: str, reason: str) -> list[dict[str, Any]]:
    return [
        o.raw
        for (res, _, _), o in cluster.objects.items()
        if res.plural == "events"
        and not o.deleted
        and o.raw["involvedObject"]["name"] == name
        and o.raw["reason"] == reason
    ]


async def test_steady_status_and_repeated_events_cost_little(prometheus: Any, exporter: Any) -> None:
    exp, job = exporter
    ns, query = "team-load", f'sum(load{{job="{job}"}})'
    exp.set(45)
    await asyncio.to_thread(prometheus.wait_for, query, lambda v: v == 45)
    async with operating.cluster_api() as (cluster, url):
        cluster.put_object(DEPLOYMENT, operating.deployment("steady", ns, replicas=1))
        cluster.put_object(POLICY, operating.policy("steady", ns, operating.load_spec("steady", query)))
        cluster.put_object(
            POLICY, operating.policy("ghost", ns, operating.load_spec("no-such-deployment", query))
        )
        env = {"SCALEPLANE_STATUS_HEARTBEAT_SECONDS": str(HEARTBEAT)}
        async with operating.running_operator(url, prometheus.url, namespace=ns, tick=TICK, env=env):
            # Scaled to 5; the next tick sees 5 running, which the status says (a change: written).
            await eventually(lambda: _status(cluster, ns, "steady").get("currentReplicas") == 5)
            before = _status_writes(cluster, ns, "steady")
            await asyncio.sleep(3 * HEARTBEAT)  # 12 ticks, nothing a user reads changes
            steady = _status_writes(cluster, ns, "steady") - before
            assert 2 <= steady <= 4, steady  # the heartbeat (every 2 s), not every tick (12)

            exp.set(75)  # a change a user reads: written at once, not at the next heartbeat
            await eventually(lambda: _status(cluster, ns, "steady").get("desiredReplicas") == 8, timeout=5)

            # The broken target fails every tick: one ScalingFailed Event, counting up.
            failed = _events(cluster, "ghost", "ScalingFailed")
            assert len(failed) == 1, failed
            assert failed[0]["count"] >= 3, failed[0]
            assert failed[0]["lastTimestamp"] > failed[0]["firstTimestamp"]
            ghost_writes = _status_writes(cluster, ns, "ghost")
            assert ghost_writes <= 6, ghost_writes  # same error every tick: first write + heartbeats


async def test_a_stopping_leader_saves_the_engine_states_the_heartbeat_held_back(
    prometheus: Any, exporter: Any
) -> None:
    """Between heartbeats the engine state in the status ages (a steady policy is not written); a
    leader that stops writes the newer states first, so the next one resumes from what it knew."""
    exp, job = exporter
    ns, query = "team-save", f'sum(load{{job="{job}"}})'
    exp.set(45)
    await asyncio.to_thread(prometheus.wait_for, query, lambda v: v == 45)
    async with operating.cluster_api() as (cluster, url):
        cluster.put_object(DEPLOYMENT, operating.deployment("worker", ns, replicas=5))
        spec = {**operating.load_spec("worker", query), "behavior": operating.fast_behavior(down_window=60)}
        cluster.put_object(POLICY, operating.policy("worker", ns, spec))
        env = {"SCALEPLANE_STATUS_HEARTBEAT_SECONDS": "600"}
        async with operating.running_operator(url, prometheus.url, namespace=ns, tick=TICK, env=env):
            await eventually(lambda: _status(cluster, ns, "worker").get("engineState"))
            written = _status_writes(cluster, ns, "worker")
            await asyncio.sleep(3)  # six steady ticks: each adds a recommendation, none is written
            assert _status_writes(cluster, ns, "worker") == written
            stopped_at = time.time()
        newest = max(at for at, _ in _status(cluster, ns, "worker")["engineState"]["recommendations"])
        assert newest > stopped_at - 2 * TICK, (newest, stopped_at)
