"""One policy's bad status stays its own: 100 good policies and malformed ones, on kmock and a real
Prometheus, under `--namespace`.

Two ways a malformed `status.engineState` reaches the operator: it is there when the operator first
sees the policy, or another writer breaks it while this replica is a standby and it reads it back on
taking over the Lease (the reload that used to raise and keep the loop from ever leading). Either way
the policy is reset with a Warning Event and `StateRestored=False MalformedStatus`, and it and every
other policy scale. Taking over lists policies in the watched namespace only, never cluster-wide.
"""

from __future__ import annotations

import asyncio
import datetime
from typing import Any

import aiohttp
import pytest

from tests.support import operating
from tests.support.operating import DEPLOYMENT, POLICY
from tests.support.waiting import eventually

pytestmark = [pytest.mark.servers, pytest.mark.slow]
LEASES = "coordination.k8s.io/v1/leases"
GOOD = 100


def _condition(cluster: Any, ns: str, name: str, kind: str) -> tuple[str, str] | None:
    status = (cluster.read_object(POLICY, ns, name) or {}).get("status") or {}
    for c in status.get("conditions") or []:
        if isinstance(c, dict) and c.get("type") == kind:
            return c["status"], c["reason"]
    return None


def _scaled(cluster: Any, ns: str, names: list[str]) -> list[str]:
    """The names whose Deployment is not at 5 replicas yet."""
    return [n for n in names if cluster.read_object(DEPLOYMENT, ns, n)["spec"]["replicas"] != 5]


def _events(cluster: Any, name: str, reason: str) -> list[dict[str, Any]]:
    return [
        o.raw
        for (res, _, _), o in cluster.objects.items()
        if res.plural == "events"
        and not o.deleted
        and o.raw["involvedObject"]["name"] == name
        and o.raw["reason"] == reason
    ]


async def _valid_policies(port: int) -> float:
    async with aiohttp.ClientSession() as s, s.get(f"http://127.0.0.1:{port}/metrics") as rsp:
        text = await rsp.text()
    for line in text.splitlines():
        if line.startswith('scaleplane_policies{state="valid"}'):
            return float(line.split()[-1])
    return 0.0


async def _all_known(port: int, count: int) -> bool:
    return await _valid_policies(port) == count


async def test_malformed_engine_states_among_100_good_policies(prometheus: Any, exporter: Any) -> None:
    exp, job = exporter
    ns, query = "team-iso", f'sum(load{{job="{job}"}})'
    exp.set(45)  # 45 / 10 per replica: every policy asks for 5
    await asyncio.to_thread(prometheus.wait_for, query, lambda v: v == 45)
    good = [f"good-{i:03d}" for i in range(GOOD)]
    names = [*good, "broken-at-start", "broken-later"]
    async with operating.cluster_api() as (cluster, url):
        now = datetime.datetime.now(tz=datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        cluster.put_object(
            LEASES,
            {
                "apiVersion": "coordination.k8s.io/v1",
                "kind": "Lease",
                "metadata": {"name": "scaleplane-operator", "namespace": ns},
                "spec": {"holderIdentity": "another-replica", "leaseDurationSeconds": 600, "renewTime": now},
            },
        )
        for name in names:
            cluster.put_object(DEPLOYMENT, operating.deployment(name, ns, replicas=1))
            body = operating.policy(name, ns, operating.load_spec(name, query))
            if name == "broken-at-start":
                body["status"] = {"engineState": {"recommendations": [["soon", 3]]}, "conditions": "all good"}
            cluster.put_object(POLICY, body)

        async with operating.running_operator(url, prometheus.url, namespace=ns) as op:
            # A standby: it knows every policy (the broken one too) and actuates nothing.
            await eventually(lambda: _all_known(op.metrics_port, len(names)), timeout=30)
            assert len(_scaled(cluster, ns, names)) == len(names)
            # The other replica breaks a policy's state, then gives the Lease up.
            path = f"/apis/scaleplane.io/v1alpha1/namespaces/{ns}/scalingpolicies/broken-later/status"
            await operating.merge_patch(url, path, {"status": {"engineState": {"history": [[1, "load"]]}}})
            lease = f"/apis/coordination.k8s.io/v1/namespaces/{ns}/leases/scaleplane-operator"
            await operating.merge_patch(url, lease, {"spec": {"holderIdentity": None}})

            await eventually(lambda: not _scaled(cluster, ns, names), timeout=40)
            for name in ("broken-at-start", "broken-later"):
                await eventually(lambda name=name: _events(cluster, name, "MalformedStatus"))
                await eventually(
                    lambda name=name: (
                        _condition(cluster, ns, name, "StateRestored") == ("False", "MalformedStatus")
                    )
                )
            message = _events(cluster, "broken-later", "MalformedStatus")[0]["message"]
            assert message.startswith("status.engineState: does not parse"), message
            at_start = _events(cluster, "broken-at-start", "MalformedStatus")[0]["message"]
            assert "status.conditions" in at_start and "status.engineState" in at_start
            await eventually(
                lambda: _condition(cluster, ns, "good-000", "StateRestored") == ("True", "Fresh")
            )
            assert not _events(cluster, "good-000", "MalformedStatus")

        # Under --namespace nothing listed ScalingPolicies across all namespaces (taking over included).
        cluster_wide = [
            r for r in cluster if str(r.url.path) == "/apis/scaleplane.io/v1alpha1/scalingpolicies"
        ]
        assert cluster_wide == []


async def test_policies_whose_queries_vary_in_a_keyword_label_scale(prometheus: Any) -> None:
    """The defect: the operator batches by default, and `sum(x{without="a"})` with `sum(x{without="b"})`
    became `sum by (without) (...)`, a parse error, so every policy of the batch held on no data."""
    job, ns = "op-keywords", "team-kw"
    exp = operating.Exporter("queue_depth", ("without", "nan"))
    prometheus.add_target(job, exp.address)
    try:
        for value, depth in (("a", 45), ("b", 25)):
            exp.set(depth, without=value, nan=value)
        queries = {
            name: f'sum(queue_depth{{job="{job}", {label}="{value}"}})'
            for name, label, value in (("wa", "without", "a"), ("wb", "without", "b"), ("na", "nan", "a"))
        }
        queries["nb"] = f'sum(queue_depth{{job="{job}", nan="b"}})'
        await asyncio.to_thread(prometheus.wait_for, queries["nb"], lambda v: v == 25)
        async with operating.cluster_api() as (cluster, url):
            for name, query in queries.items():
                cluster.put_object(DEPLOYMENT, operating.deployment(name, ns, replicas=1))
                cluster.put_object(POLICY, operating.policy(name, ns, operating.load_spec(name, query)))
            async with operating.running_operator(url, prometheus.url, namespace=ns):
                expected = {"wa": 5, "wb": 3, "na": 5, "nb": 3}
                await eventually(
                    lambda: (
                        {n: cluster.read_object(DEPLOYMENT, ns, n)["spec"]["replicas"] for n in expected}
                        == expected
                    )
                )
    finally:
        prometheus.remove_target(job, exp.address)
        exp.close()
