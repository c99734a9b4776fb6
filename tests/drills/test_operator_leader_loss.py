"""operator-leader-loss on kubernetes, end to end: two real operators (tests/support/operating.py, each a
kopf operator with its own Lease identity and token) on kmock, the drill's kubernetes backend deletes
the leader's Pod, and the standby takes the Lease once it lapses.

The kmock "kubelet" here: operator Pods named after the operators' identities (as `POD_NAME` makes
them in operator/deployment.yaml); when the drill deletes the leader's Pod, that operator's token is
revoked at once (every request of it answers 401, as a dead process sends none: it can neither renew
nor release its Lease) and it is stopped; the "Deployment" then starts a replacement Pod and operator.
No scale write is missed or doubled: every /scale PATCH is read from kmock's request log, with the
token (the replica) that sent it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from typing import Any

import pytest

from scaleplane.drills.kubernetes import drilling
from scaleplane.drills.probing import clocks
from tests.support import operating
from tests.support.operating import DEPLOYMENT, POLICY
from tests.support.waiting import eventually

pytestmark = [pytest.mark.servers, pytest.mark.slow]
NS, PODS, LEASES = "team-ops", "v1/pods", "coordination.k8s.io/v1/leases"
STEPS = (  # the scenario's steps (scaleplane.drills.engine.leaderlosses), in order
    "start-controllers", "kill-leader", "detect-leader-lost", "decide-standby-healthy", "await-takeover",
    "verify-actuations", "rejoin-old-leader",
)  # fmt: skip


def operator_pod(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": NS,
            "labels": {"app.kubernetes.io/name": "scaleplane-operator"},
        },
        "spec": {"containers": [{"name": "operator", "image": "scaleplane-operator:dev"}]},
        "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]},
    }


@pytest.fixture
def exporter(prometheus: Any) -> Iterator[tuple[operating.Exporter, str]]:
    job = "drill-operator-leader-loss"
    exp = operating.Exporter("load")
    prometheus.add_target(job, exp.address)
    try:
        yield exp, job
    finally:
        prometheus.remove_target(job, exp.address)
        exp.close()


def scale_writes(cluster: Any) -> list[tuple[int, str]]:
    """(replicas, token) of every /scale PATCH of the worker, from kmock's request log."""
    found = []
    for request in list(cluster):
        method = str(getattr(request.method, "value", request.method)).upper()
        if method == "PATCH" and request.subresource == "scale" and request.name == "worker":
            token = request.headers.get("Authorization", "").removeprefix("Bearer ")
            found.append((int(request.data["spec"]["replicas"]), token))
    return found


async def test_the_standby_takes_the_lease_and_no_scale_write_is_missed_or_doubled(
    prometheus: Any, exporter: Any
) -> None:
    exp, job = exporter
    query = f'sum(load{{job="{job}"}})'
    exp.set(45)
    await asyncio.to_thread(prometheus.wait_for, query, lambda v: v == 45)
    spec = {
        "targetRef": {"kind": "Deployment", "name": "worker"},
        "minReplicas": 1,
        "maxReplicas": 8,
        "cooldownSeconds": 0,
        "metrics": [{"name": "load", "query": query, "target": {"type": "AverageValue", "value": 10}}],
        "behavior": operating.fast_behavior(),
    }
    async with operating.cluster_api() as (cluster, url), contextlib.AsyncExitStack() as stack:
        cluster.resources[PODS] = {
            "namespaced": True,
            "verbs": operating.ALL_VERBS,
            "kind": "Pod",
            "singular": "pod",
        }
        cluster.put_object(DEPLOYMENT, operating.deployment("worker", NS, replicas=1))
        cluster.put_object(POLICY, operating.policy("worker", NS, spec))
        cluster.tokens = set()
        replicas: dict[str, contextlib.AsyncExitStack] = {}

        async def start(name: str) -> None:
            cluster.tokens.add(name)  # each replica's token is its name
            cluster.put_object(PODS, operator_pod(name))
            folder = stack.enter_context(operating.kubeconfig_dir())
            kubeconfig = operating.write_kubeconfig(folder / "config", url, {"token": name})
            env = {"SCALEPLANE_IDENTITY": name, "KUBECONFIG": str(kubeconfig)}
            replicas[name] = contextlib.AsyncExitStack()
            stack.push_async_callback(replicas[name].aclose)
            await replicas[name].enter_async_context(
                operating.running_operator(url, prometheus.url, namespace=NS, env=env, functions=False)
            )

        async def kubelet() -> None:
            """A deleted operator Pod: its process is dead at once, and its Deployment replaces it."""
            while True:
                for name in list(replicas):
                    if name in cluster.tokens and cluster.read_object(PODS, NS, name) is None:
                        cluster.tokens.discard(name)
                        with contextlib.suppress(Exception):  # a runner cut off by 401s may end unhappy
                            await replicas[name].aclose()
                        await start(f"operator-{len(replicas) + 1}")
                await asyncio.sleep(0.05)

        await start("operator-1")
        await eventually(lambda: (cluster.read_object(LEASES, NS, "scaleplane-operator") or {}).get("spec"))
        await start("operator-2")
        await eventually(lambda: cluster.read_object(DEPLOYMENT, NS, "worker")["spec"]["replicas"] == 5)
        leader = cluster.read_object(LEASES, NS, "scaleplane-operator")["spec"]["holderIdentity"]
        watcher = asyncio.get_running_loop().create_task(kubelet())
        try:
            drill = drilling.KubernetesBackend(
                scenario="operator-leader-loss", namespace=NS, api=drilling.api_for(url), fault="delete",
                clock=clocks.WallClock(), poll=0.1,
            )  # fmt: skip
            cluster.tokens.add("drill")
            drill.client().configuration.api_key = {"BearerToken": "drill"}
            drill.client().configuration.api_key_prefix = {"BearerToken": "Bearer"}
            seen = {}
            for step in STEPS:
                outcome = await asyncio.to_thread(drill.perform, step, 30)
                seen[step] = outcome.observed
                assert outcome.ok, (step, outcome.observed)
                if step == "await-takeover":
                    exp.set(15)  # a decision the new leader alone must apply
                    await eventually(
                        lambda: cluster.read_object(DEPLOYMENT, NS, "worker")["spec"]["replicas"] == 2
                    )
            assert (await asyncio.to_thread(drill.perform, "stop-controllers", 10)).ok
        finally:
            watcher.cancel()
        new = cluster.read_object(LEASES, NS, "scaleplane-operator")["spec"]["holderIdentity"]
        assert seen["kill-leader"] == f"pod {leader} (operator leader) deleted"
        assert new != leader and seen["await-takeover"].startswith(f"{new} holds the Lease")
        # every decision applied exactly once, by whoever led at the time
        # the dead replica could neither renew nor release: its requests were refused, the Lease lapsed
        assert cluster.refused >= 1 and "(transitions 0 -> 1)" in seen["await-takeover"]
        assert scale_writes(cluster) == [(5, leader), (2, new)]
