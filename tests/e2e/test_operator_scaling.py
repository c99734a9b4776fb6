"""The operator end to end: kmock API, a real Prometheus scraping a real exporter, the real loop.

Each test runs the operator (KopfRunner) with a 1 s tick against its own namespace and its own
exporter job, then moves the exported metric and watches the target's replicas follow.
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from scaleplane.functions import announcing
from scaleplane.operator.records import hooking
from tests.support import endpoints, operating
from tests.support.operating import DEPLOYMENT, POLICY
from tests.support.waiting import eventually

pytestmark = [pytest.mark.servers, pytest.mark.slow]
CNPG = "postgresql.cnpg.io/v1/clusters"


def _spec(
    name: str, query: str, kind: str = "Deployment", api_version: str = "apps/v1", **extra: Any
) -> dict[str, Any]:
    return {
        "targetRef": {"apiVersion": api_version, "kind": kind, "name": name},
        "minReplicas": 1,
        "maxReplicas": 8,
        "cooldownSeconds": 0,
        "metrics": [{"name": "load", "query": query, "target": {"type": "AverageValue", "value": 10}}],
        "behavior": operating.fast_behavior(),
        **extra,
    }


def _field(cluster: Any, resource: str, namespace: str, name: str, *path: str) -> Any:
    node = cluster.read_object(resource, namespace, name)
    for part in path:
        node = None if node is None else node.get(part)
    return node


def _events(cluster: Any, reason: str) -> list[dict[str, Any]]:
    return [
        o.raw
        for (res, _, _), o in cluster.objects.items()
        if res.plural == "events" and not o.deleted and o.raw.get("reason") == reason
    ]


async def _scrape(port: int) -> str:
    async with aiohttp.ClientSession() as session, session.get(f"http://127.0.0.1:{port}/metrics") as rsp:
        return await rsp.text()


async def test_deployment_follows_the_metric_up_and_down(prometheus: Any, exporter: Any) -> None:
    exp, job = exporter
    ns, query = "team-a", f'sum(load{{job="{job}"}})'
    exp.set(45)
    await asyncio.to_thread(prometheus.wait_for, query, lambda v: v == 45)
    secret = "s3cret"
    metrics_port = endpoints.free_port()
    async with operating.cluster_api() as (cluster, url), endpoints.HookReceiver(fail_first=1) as hook:
        cluster.put_object(DEPLOYMENT, operating.deployment("worker", ns, replicas=1))
        cluster.put_object(POLICY, operating.policy("worker", ns, _spec("worker", query)))
        env = {
            "SCALEPLANE_HOOKS": json.dumps([{"url": hook.url, "secret": secret, "timeout": 2, "retries": 2}]),
            "SCALEPLANE_METRICS_ADDR": f"127.0.0.1:{metrics_port}",
        }
        async with operating.running_operator(url, prometheus.url, namespace=ns, env=env):
            kubeconfig = Path(os.environ["KUBECONFIG"])  # the one running_operator wrote for this run
            assert kubeconfig.is_file()
            # An AverageValue target of 10 per replica with 45 observed: ceil(45 / 10) = 5.
            await eventually(lambda: _field(cluster, DEPLOYMENT, ns, "worker", "spec", "replicas") == 5)
            await eventually(lambda: _field(cluster, POLICY, ns, "worker", "status", "desiredReplicas") == 5)
            status = _field(cluster, POLICY, ns, "worker", "status")
            assert status["desiredReplicas"] == 5
            assert status["lastDecision"]["metrics"][0]["value"] == 45
            assert status["lastDecision"]["reason"] == "scale_up"
            assert status["target"] == "Deployment/worker"
            assert status["lastScaleTime"]
            conditions = {c["type"]: c["status"] for c in status["conditions"]}
            assert conditions["Ready"] == "True" and conditions["FallbackActive"] == "False"
            assert status["engineState"]["recommendations"]
            # Steady ticks are not hook events: only the scale (and its condition changes) went out.
            await eventually(lambda: len(hook.received) == 1)
            await asyncio.sleep(2.5)
            assert len(hook.received) == 1

            exp.set(15)  # ceil(15 / 10) = 2
            await eventually(lambda: _field(cluster, DEPLOYMENT, ns, "worker", "spec", "replicas") == 2)

            text = await _scrape(metrics_port)
            assert 'scaleplane_desired_replicas{namespace="team-a",policy="worker"} 2.0' in text
            assert 'scaleplane_metric_value{metric="load",namespace="team-a",policy="worker"} 15.0' in text
            assert (
                'scaleplane_decisions_total{direction="up",namespace="team-a",policy="worker",reason="scale_up"}'
                in text
            )
            assert "scaleplane_tick_duration_seconds_count" in text
            assert "scaleplane_leader 1.0" in text
            await eventually(lambda: len(hook.received) >= 2)
        assert not kubeconfig.parent.exists(), "the operator's kubeconfig folder outlived its run"

    assert len(_events(cluster, "Scaled")) >= 2
    # Hooks: CloudEvents, signed over the exact body; the first delivery was answered 503 and retried.
    assert hook.attempts > len(hook.received)
    for headers, body in hook.received:
        assert headers["Content-Type"] == "application/cloudevents+json"
        assert announcing.verify(secret.encode(), body, headers[announcing.SIGNATURE_HEADER])
        assert not announcing.verify(b"wrong", body, headers[announcing.SIGNATURE_HEADER])
    events = [json.loads(body) for _, body in hook.received]
    assert all(e["specversion"] == "1.0" and e["type"] == hooking.EVENT_TYPE for e in events)
    assert any(e["data"]["scaled"] and e["data"]["decision"]["desired"] == 5 for e in events)
    assert all("scaled" in e["data"]["changes"] for e in events)


async def test_cnpg_cluster_instances_follow_read_load(prometheus: Any, exporter: Any) -> None:
    exp, job = exporter
    ns, query = "team-db", f'sum(load{{job="{job}"}})'
    exp.set(30)
    await asyncio.to_thread(prometheus.wait_for, query, lambda v: v == 30)
    cluster_body = {
        "apiVersion": "postgresql.cnpg.io/v1",
        "kind": "Cluster",
        "metadata": {"name": "orders-db", "namespace": ns},
        "spec": {"instances": 1, "storage": {"size": "1Gi"}},
    }
    async with operating.cluster_api() as (cluster, url):
        cluster.put_object(CNPG, cluster_body)
        spec = _spec("orders-db", query, kind="Cluster", api_version="postgresql.cnpg.io/v1", minReplicas=1)
        cluster.put_object(POLICY, operating.policy("orders-db-readers", ns, spec))
        async with operating.running_operator(url, prometheus.url, namespace=ns):
            await eventually(lambda: _field(cluster, CNPG, ns, "orders-db", "spec", "instances") == 3)
            exp.set(35)  # ceil(35 / 10) = 4
            await eventually(lambda: _field(cluster, CNPG, ns, "orders-db", "spec", "instances") == 4)
            exp.set(1)  # ceil(1 / 10) = 1 (also the minimum)
            await eventually(lambda: _field(cluster, CNPG, ns, "orders-db", "spec", "instances") == 1)
            # The status is written right after the scale: wait for it rather than race it.
            await eventually(
                lambda: (
                    _field(cluster, POLICY, ns, "orders-db-readers", "status", "lastDecision")["desired"] == 1
                )
            )
            assert _field(cluster, POLICY, ns, "orders-db-readers", "status", "target") == "Cluster/orders-db"
            # The CNPG Cluster's own status followed (the emulated CNPG controller), so did the Scale.
            assert _field(cluster, CNPG, ns, "orders-db", "status", "readyInstances") == 1
        assert len(_events(cluster, "Scaled")) >= 3
