"""Operator restarts and replicas: a restarted operator resumes its stabilization windows from the
policy's status (no flapping), and of two running replicas only the Lease holder actuates; when it
goes away, the other takes over.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from typing import Any

import aiohttp
import pytest

from tests.support import endpoints, operating
from tests.support.operating import DEPLOYMENT, POLICY
from tests.support.waiting import eventually

pytestmark = [pytest.mark.servers, pytest.mark.slow]


def _spec(query: str, down_window: int) -> dict[str, Any]:
    return {
        "targetRef": {"kind": "Deployment", "name": "worker"},
        "minReplicas": 1,
        "maxReplicas": 8,
        "cooldownSeconds": 0,
        "metrics": [{"name": "load", "query": query, "target": {"type": "AverageValue", "value": 10}}],
        "behavior": operating.fast_behavior(down_window=down_window),
    }


def _replicas(cluster: Any, ns: str) -> int:
    return int(cluster.read_object(DEPLOYMENT, ns, "worker")["spec"]["replicas"])


def _decision(cluster: Any, ns: str) -> dict[str, Any]:
    status = (cluster.read_object(POLICY, ns, "worker") or {}).get("status") or {}
    return status.get("lastDecision") or {}


async def test_restarted_operator_resumes_without_flapping(prometheus: Any, exporter: Any) -> None:
    """The scale-down window runs on across a restart: no early scale-down, and no window restarted.

    A fresh engine holds the current count for a whole new window (it seeds its memory with the current
    count), so a restart without the saved state would scale down a full window after the restart;
    with the state from status it scales down when the original window ends.
    """
    exp, job = exporter
    ns, query, window = "team-r", f'sum(load{{job="{job}"}})', 12
    exp.set(45)
    await asyncio.to_thread(prometheus.wait_for, query, lambda v: v == 45)
    async with operating.cluster_api() as (cluster, url):
        cluster.put_object(DEPLOYMENT, operating.deployment("worker", ns, replicas=1))
        cluster.put_object(POLICY, operating.policy("worker", ns, _spec(query, down_window=window)))
        async with operating.running_operator(url, prometheus.url, namespace=ns):
            await eventually(lambda: _replicas(cluster, ns) == 5)
            exp.set(15)  # asks for 2, but the scale-down window remembers 5
            await eventually(lambda: _decision(cluster, ns).get("reason") == "stabilized")
            stabilized_at = time.time()
        state = cluster.read_object(POLICY, ns, "worker")["status"]["engineState"]
        assert state["recommendations"], "the window's memory is in the status"
        await asyncio.sleep(4)  # the operator is down for a while, as during a rollout

        async with operating.running_operator(url, prometheus.url, namespace=ns):
            restarted_at = time.time()
            await asyncio.sleep(2)
            assert _replicas(cluster, ns) == 5  # no flapping right after the restart
            await eventually(lambda: _replicas(cluster, ns) == 2, timeout=window + 5)
            scaled_down_at = time.time()
        # Not before the original window ended, and well before a window restarted by the new operator.
        assert scaled_down_at >= stabilized_at + window - 3
        assert scaled_down_at < restarted_at + window - 2, (stabilized_at, restarted_at, scaled_down_at)


def _iso(at: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at))


async def _metrics(port: int) -> str:
    async with aiohttp.ClientSession() as s, s.get(f"http://127.0.0.1:{port}/metrics") as rsp:
        return await rsp.text()


async def _leader(port: int) -> float | None:
    try:
        text = await _metrics(port)
    except aiohttp.ClientError:
        return None
    found = re.search(r"^scaleplane_leader (\S+)$", text, re.M)
    return float(found.group(1)) if found else None


async def test_of_two_replicas_only_the_lease_holder_actuates(prometheus: Any, exporter: Any) -> None:
    exp, job = exporter
    ns, query = "team-ha", f'sum(load{{job="{job}"}})'
    exp.set(45)
    await asyncio.to_thread(prometheus.wait_for, query, lambda v: v == 45)
    ports = [endpoints.free_port(), endpoints.free_port()]
    async with operating.cluster_api() as (cluster, url):
        cluster.put_object(DEPLOYMENT, operating.deployment("worker", ns, replicas=1))
        cluster.put_object(POLICY, operating.policy("worker", ns, _spec(query, down_window=0)))
        stacks = [contextlib.AsyncExitStack(), contextlib.AsyncExitStack()]
        try:
            for port, stack in zip(ports, stacks, strict=True):
                env = {"SCALEPLANE_METRICS_ADDR": f"127.0.0.1:{port}"}
                await stack.enter_async_context(
                    operating.running_operator(url, prometheus.url, namespace=ns, env=env)
                )
            await eventually(lambda: _replicas(cluster, ns) == 5)
            await eventually(lambda: _both_known(ports))
            # The two scrapes are not one instant: a hand-over between them (a starved holder's renew
            # missing its deadline) can show [1, 1] or [0, 0] without two leaders at once, so the
            # roles are read until one scrape pair agrees. That two never lead at once is
            # tests/operator/test_leasing.py's (a slow read, a cut-off holder, a race).
            roles = await eventually(_one_leader(ports))
            assert sorted(roles) == [0.0, 1.0], roles
            leader = roles.index(1.0)
            lease = cluster.read_object("coordination.k8s.io/v1/leases", ns, "scaleplane-operator")
            assert lease["spec"]["holderIdentity"]

            # Only the holder decided and scaled; the standby kept its registry warm and did nothing.
            texts = [await _metrics(port) for port in ports]
            assert (
                'scaleplane_scale_total{direction="up",namespace="team-ha",policy="worker"} 1.0'
                in texts[leader]
            )
            assert "scaleplane_scale_total{" not in texts[1 - leader]
            # The standby keeps its registry warm (its gauge is set at its next tick).
            await eventually(lambda: _has(ports[1 - leader], 'scaleplane_policies{state="valid"} 1.0'))
            await stacks[leader].aclose()  # the leader stops and releases the Lease
            standby = 1 - leader
            await eventually(lambda: _is_leader(ports[standby]), timeout=10)
            exp.set(15)
            await eventually(lambda: _replicas(cluster, ns) == 2)
        finally:
            for stack in stacks:
                await stack.aclose()


def _one_leader(ports: list[int]) -> Any:
    async def check() -> list[float | None] | None:
        roles = [await _leader(port) for port in ports]
        return roles if sorted(roles, key=lambda r: -1 if r is None else r) == [0.0, 1.0] else None

    return check


async def _has(port: int, line: str) -> bool:
    return line in await _metrics(port)


async def _both_known(ports: list[int]) -> bool:
    return all([await _leader(port) is not None for port in ports])


async def _is_leader(port: int) -> bool:
    return await _leader(port) == 1.0
