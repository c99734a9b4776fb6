"""The operator end to end: kmock API, a real Prometheus scraping a real exporter, the real loop.

Each test runs the operator (KopfRunner) with a 1 s tick against its own namespace and its own
exporter job, then moves the exported metric and watches the target's replicas follow.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support import operating
from tests.support.operating import DEPLOYMENT, POLICY, eventually

pytestmark = [pytest.mark.servers, pytest.mark.slow]


@pytest.fixture
def exporter(prometheus: Any, request: pytest.FixtureRequest) -> Iterator[tuple[operating.Exporter, str]]:
    job = f"op-{request.node.name}"[:60]
    exp = operating.Exporter("queue_depth")
    exp.set(0)
    prometheus.add_target(job, exp.address)
    try:
        yield exp, job
    finally:
        prometheus.remove_target(job, exp.address)
        exp.close()


def _replicas(cluster: Any, namespace: str, name: str) -> int | None:
    obj = cluster.read_object(DEPLOYMENT, namespace, name)
    return None if obj is None else obj["spec"]["replicas"]


def _status(cluster: Any, namespace: str, name: str) -> dict[str, Any]:
    obj = cluster.read_object(POLICY, namespace, name) or {}
    return obj.get("status") or {}


async def test_deployment_follows_the_metric_up_and_down(prometheus: Any, exporter: Any) -> None:
    exp, job = exporter
    ns = "team-a"
    exp.set(45)
    await asyncio.to_thread(prometheus.wait_for, f'sum(queue_depth{{job="{job}"}})', lambda v: v == 45)
    async with operating.cluster_api() as (cluster, url):
        cluster.put_object(DEPLOYMENT, operating.deployment("worker", ns, replicas=1))
        cluster.put_object(
            POLICY,
            operating.policy(
                "worker",
                ns,
                {
                    "targetRef": {"kind": "Deployment", "name": "worker"},
                    "minReplicas": 1,
                    "maxReplicas": 8,
                    "cooldownSeconds": 0,
                    "metrics": [
                        {
                            "name": "queue",
                            "query": f'sum(queue_depth{{job="{job}"}})',
                            "target": {"type": "Value", "value": 10},
                        }
                    ],
                    "behavior": operating.fast_behavior(),
                },
            ),
        )
        async with operating.running_operator(url, prometheus.url, namespace=ns):
            # 45 queued against 10 per... Value target: 1 replica * 45/10 -> ceil(4.5) = 5
            await eventually(lambda: _replicas(cluster, ns, "worker") == 5, timeout=20)
            status = _status(cluster, ns, "worker")
            assert status["desiredReplicas"] == 5
            assert status["lastDecision"]["metrics"][0]["value"] == 45
            assert status["target"] == "Deployment/worker"
            assert status["lastScaleTime"]
            assert {c["type"] for c in status["conditions"]} >= {"Ready", "ScalingActive", "ScalingLimited"}
            exp.set(4)
            await eventually(lambda: (_replicas(cluster, ns, "worker") or 99) < 5, timeout=20)
            await eventually(lambda: _replicas(cluster, ns, "worker") == 2, timeout=20)
        events = [
            o.raw for (res, _, _), o in cluster.objects.items() if res.plural == "events" and not o.deleted
        ]
        assert any(e["reason"] == "Scaled" for e in events)
