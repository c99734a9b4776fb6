"""Faults on purpose, against the running operator: API conflicts and errors, bad policies, a missing
target, Prometheus answering garbage (several series, NaN, nothing) or not at all, and dryRun.
One operator run carries several policies at once: a fault in one never stops the others.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support import endpoints, operating
from tests.support.operating import DEPLOYMENT, POLICY
from tests.support.waiting import eventually

pytestmark = [pytest.mark.servers, pytest.mark.slow]


@pytest.fixture
def exporter(prometheus: Any) -> Iterator[tuple[operating.Exporter, str]]:
    job = "op-faults"
    with operating.scraped_exporter(prometheus, job, ("series",)) as exp:
        yield exp, job


def _spec(target: str, query: str, **extra: Any) -> dict[str, Any]:
    return {
        "targetRef": {"kind": "Deployment", "name": target},
        "minReplicas": 1,
        "maxReplicas": 8,
        "cooldownSeconds": 0,
        "metrics": [{"name": "load", "query": query, "target": {"type": "AverageValue", "value": 10}}],
        "behavior": operating.fast_behavior(),
        **extra,
    }


def _status(cluster: Any, ns: str, name: str) -> dict[str, Any]:
    return (cluster.read_object(POLICY, ns, name) or {}).get("status") or {}


def _condition(cluster: Any, ns: str, name: str, kind: str) -> tuple[str, str] | None:
    for c in _status(cluster, ns, name).get("conditions") or []:
        if c["type"] == kind:
            return c["status"], c["reason"]
    return None


def _replicas(cluster: Any, ns: str, name: str) -> int:
    return int(cluster.read_object(DEPLOYMENT, ns, name)["spec"]["replicas"])


def _event_reasons(cluster: Any, name: str) -> set[str]:
    return {
        o.raw["reason"]
        for (res, _, _), o in cluster.objects.items()
        if res.plural == "events" and not o.deleted and o.raw["involvedObject"]["name"] == name
    }


async def test_faults_are_survived_and_reported(prometheus: Any, exporter: Any) -> None:
    exp, job = exporter
    ns = "team-f"
    exp.set(45, series="main")
    exp.set(1, series="dup1")
    exp.set(2, series="dup2")
    exp.set(math.nan, series="nan")
    main = f'sum(load{{job="{job}",series="main"}})'
    await asyncio.to_thread(prometheus.wait_for, main, lambda v: v == 45)
    async with operating.cluster_api() as (cluster, url):
        for name, replicas in (("good", 1), ("dry", 1), ("garbage", 1), ("nan", 3)):
            cluster.put_object(DEPLOYMENT, operating.deployment(name, ns, replicas=replicas))
        cluster.put_object(POLICY, operating.policy("good", ns, _spec("good", main)))
        cluster.put_object(POLICY, operating.policy("dry", ns, _spec("dry", main, dryRun=True)))
        cluster.put_object(
            POLICY, operating.policy("invalid", ns, _spec("good", main, minReplicas=5, maxReplicas=2))
        )
        cluster.put_object(POLICY, operating.policy("ghost", ns, _spec("no-such-deployment", main)))
        fallback = {"failureThreshold": 2, "action": "replicas", "replicas": 4}
        several = f'load{{job="{job}",series=~"dup.*"}}'
        cluster.put_object(
            POLICY, operating.policy("garbage", ns, _spec("garbage", several, fallback=fallback))
        )
        cluster.put_object(
            POLICY, operating.policy("nan", ns, _spec("nan", f'load{{job="{job}",series="nan"}}'))
        )
        # The good policy's first scale meets 409, 409, then 500; its first status write meets 500.
        scale_path = f"/namespaces/{ns}/deployments/good/scale"
        cluster.inject("PATCH", scale_path, status=409, times=2)
        cluster.inject("PATCH", scale_path, status=500, times=1)
        cluster.inject("PATCH", f"/namespaces/{ns}/scalingpolicies/good/status", status=500, times=1)

        async with operating.running_operator(url, prometheus.url, namespace=ns):
            await eventually(lambda: _replicas(cluster, ns, "good") == 5)
            await eventually(lambda: _replicas(cluster, ns, "garbage") == 4)  # fallback after 2 ticks
            await eventually(
                lambda: _condition(cluster, ns, "invalid", "Ready") == ("False", "InvalidPolicy")
            )
            await eventually(
                lambda: _condition(cluster, ns, "ghost", "Ready") == ("False", "TargetUnavailable")
            )
            await eventually(lambda: _condition(cluster, ns, "nan", "ScalingActive") is not None)
            await eventually(lambda: _status(cluster, ns, "dry").get("desiredReplicas") == 5)
            await asyncio.sleep(2)  # a few more ticks: nothing may change below

            # 409/409/500 were retried within one tick: 4 PATCHes, then the scale stood.
            patches = {
                r.id
                for r in cluster
                if str(r.method.value).upper() == "PATCH" and str(r.url.path).endswith(scale_path)
            }
            assert len(patches) == 4, sorted(patches)
            assert _status(cluster, ns, "good")["desiredReplicas"] == 5

            # dryRun: decided and recorded, not carried out.
            assert _replicas(cluster, ns, "dry") == 1
            assert _status(cluster, ns, "dry")["lastDecision"]["actuated"] is False
            assert _condition(cluster, ns, "dry", "ScalingActive") == ("False", "DryRun")

            # Several series where one is expected: fallback to 4, reported as such.
            assert _condition(cluster, ns, "garbage", "FallbackActive")[0] == "True"
            assert "FallbackActive" in _event_reasons(cluster, "garbage")

            # NaN: no scale-down on missing data; a condition and an event say why.
            assert _replicas(cluster, ns, "nan") == 3
            assert _status(cluster, ns, "nan")["lastDecision"]["reason"] in (
                "metrics_unavailable",
                "metric_failed",
            )
            assert _condition(cluster, ns, "nan", "ScalingActive") == ("False", "MetricsUnavailable")
            assert "MetricsUnavailable" in _event_reasons(cluster, "nan")

            # The invalid and the ghost policy are reported, and did not stop the loop.
            assert "maxReplicas must be >= minReplicas" in _status(cluster, ns, "invalid")["error"]
            assert "InvalidPolicy" in _event_reasons(cluster, "invalid")
            assert "no-such-deployment" in _status(cluster, ns, "ghost")["error"]
            assert "ScalingFailed" in _event_reasons(cluster, "ghost")


async def test_prometheus_down_holds_the_count() -> None:
    ns = "team-down"
    dead_prometheus = f"http://127.0.0.1:{endpoints.free_port()}"
    async with operating.cluster_api() as (cluster, url):
        cluster.put_object(DEPLOYMENT, operating.deployment("worker", ns, replicas=4))
        cluster.put_object(POLICY, operating.policy("worker", ns, _spec("worker", "sum(up)")))
        # A long outage under a fallback rule: the rule decides, and the conditions still say that no
        # metric could be read (they used to flip to ScalingActive=True/ValidMetrics).
        cluster.put_object(DEPLOYMENT, operating.deployment("fallback", ns, replicas=1))
        fallback = {"failureThreshold": 2, "action": "replicas", "replicas": 3}
        spec = _spec("fallback", "sum(up)", fallback=fallback)
        cluster.put_object(POLICY, operating.policy("fallback", ns, spec))
        async with operating.running_operator(url, dead_prometheus, namespace=ns):
            await eventually(lambda: _replicas(cluster, ns, "fallback") == 3)
            await eventually(
                lambda: _condition(cluster, ns, "fallback", "FallbackActive") == ("True", "fallback_replicas")
            )
            assert _condition(cluster, ns, "fallback", "ScalingActive") == ("False", "MetricsUnavailable")
            await eventually(lambda: _condition(cluster, ns, "worker", "ScalingActive") is not None)
            await asyncio.sleep(2)
            assert _replicas(cluster, ns, "worker") == 4
            assert _condition(cluster, ns, "worker", "ScalingActive") == ("False", "MetricsUnavailable")
            assert _status(cluster, ns, "worker")["lastDecision"]["reason"] == "metrics_unavailable"
            assert "MetricsUnavailable" in _event_reasons(cluster, "worker")
