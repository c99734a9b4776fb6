"""The Kubernetes /scale target over real HTTP against kmock (tests/support/kmock_cluster.py), through
the operator's one client (`kube.clients.KubeClient`): plurals from discovery, one LIST per namespace
and kind for the reads of a tick."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from typing import Any

import kmock
import pytest

from scaleplane.control import policies, retrying, ticking
from scaleplane.kube import clients
from scaleplane.metrics import sources
from scaleplane.scaling import decisions, specs
from scaleplane.targets import kubernetes, protocol, registry
from tests.support.kmock_cluster import KubernetesCluster, kube_client

pytestmark = pytest.mark.servers

RESOURCES = {
    "apps/v1/deployments": {"kind": "Deployment", "subresources": ["status", "scale"]},
    "apps/v1/statefulsets": {"kind": "StatefulSet", "subresources": ["status", "scale"]},
    "postgresql.cnpg.io/v1/clusters": {"kind": "Cluster", "subresources": ["status", "scale"]},
}


@contextlib.asynccontextmanager
async def serving(cluster: KubernetesCluster, **client: Any) -> AsyncIterator[kubernetes.Listings]:
    async with cluster, kmock.Server(cluster) as server:
        for resource, info in RESOURCES.items():
            cluster.resources[resource] = {"namespaced": True, "verbs": ["get", "list", "patch"], **info}
        api = kube_client(server.url, **client)
        try:
            yield kubernetes.Listings(api, fresh_for=0.0)
        finally:
            await api.close()


@pytest.fixture
async def cluster() -> AsyncIterator[tuple[KubernetesCluster, kubernetes.Listings]]:
    cluster = KubernetesCluster(auto_ready=False)
    async with serving(cluster) as listings:
        yield cluster, listings


def workload(kind: str, name: str, namespace: str, replicas: int, ready: int | None) -> dict[str, Any]:
    field, ready_field = (
        ("instances", "readyInstances") if kind == "Cluster" else ("replicas", "readyReplicas")
    )
    status = {} if ready is None else {ready_field: ready}
    api_version = "postgresql.cnpg.io/v1" if kind == "Cluster" else "apps/v1"
    return {
        "apiVersion": api_version,
        "kind": kind,
        "metadata": {"name": name, "namespace": namespace},
        "spec": {field: replicas},
        "status": status,
    }


def target(
    listings: kubernetes.Listings, kind: str, name: str = "web", namespace: str = "team-a"
) -> kubernetes.KubernetesScaleTarget:
    api_version = "postgresql.cnpg.io/v1" if kind == "Cluster" else "apps/v1"
    ref = specs.TargetRef(api_version=api_version, kind=kind, name=name)
    return kubernetes.KubernetesScaleTarget(listings.client, namespace, ref, listings=listings)


RESOURCE_OF = {
    "Deployment": "apps/v1/deployments",
    "StatefulSet": "apps/v1/statefulsets",
    "Cluster": "postgresql.cnpg.io/v1/clusters",
}


@pytest.mark.parametrize("kind", ["Deployment", "StatefulSet", "Cluster"])
async def test_reads_and_scales_through_the_scale_subresource(cluster, kind):
    kmock_cluster, api = cluster
    kmock_cluster.put_object(RESOURCE_OF[kind], workload(kind, "web", "team-a", replicas=3, ready=2))
    t = target(api, kind)
    assert await t.read() == protocol.ReplicaCount(current=3, ready=2)

    await t.scale(5)
    stored = kmock_cluster.read_object(RESOURCE_OF[kind], "team-a", "web")
    assert stored["spec"] == ({"instances": 5} if kind == "Cluster" else {"replicas": 5})
    assert await t.read() == protocol.ReplicaCount(current=5, ready=2)
    patches = list(kmock_cluster["patch"])
    assert [str(r.url.path).rsplit("/", 1)[-1] for r in patches] == ["scale"]
    assert patches[0].headers["Content-Type"] == "application/merge-patch+json"


async def test_nothing_ready_reads_as_zero_ready(cluster):
    kmock_cluster, api = cluster
    kmock_cluster.put_object(
        RESOURCE_OF["Deployment"], workload("Deployment", "web", "team-a", 4, ready=None)
    )
    assert await target(api, "Deployment").read() == protocol.ReplicaCount(current=4, ready=0)


@pytest.mark.parametrize(
    ("status", "retryable", "words"),
    [
        (409, True, "HTTP 409"),
        (422, False, "HTTP 422"),
        (500, True, "HTTP 500"),
        (503, True, "HTTP 503"),
        (403, False, "RBAC"),
    ],
)
async def test_api_errors_are_classified(cluster, status, retryable, words):
    kmock_cluster, api = cluster
    kmock_cluster.put_object(RESOURCE_OF["Deployment"], workload("Deployment", "web", "team-a", 1, 1))
    kmock_cluster.inject("PATCH", "/deployments/web/scale", status=status)
    with pytest.raises(protocol.TargetError) as caught:
        await target(api, "Deployment").scale(3)
    assert caught.value.retryable is retryable
    assert words in str(caught.value) and "Deployment team-a/web" in str(caught.value)
    assert kmock_cluster.read_object(RESOURCE_OF["Deployment"], "team-a", "web")["spec"]["replicas"] == 1


async def test_a_missing_object_is_not_retryable(cluster):
    _, api = cluster
    with pytest.raises(
        protocol.TargetError, match=r"HTTP 404 .*no such object in the policy's namespace"
    ) as caught:
        await target(api, "Deployment", "ghost").read()
    assert not caught.value.retryable


async def test_a_slow_api_times_out_as_retryable():
    kmock_cluster = KubernetesCluster(auto_ready=False)
    async with serving(kmock_cluster, timeout=0.3) as listings:
        kmock_cluster.put_object(RESOURCE_OF["Deployment"], workload("Deployment", "web", "team-a", 1, 1))
        kmock_cluster.inject("GET", "/deployments", delay=2.0)
        with pytest.raises(protocol.TargetError, match="TimeoutError") as caught:
            await target(listings, "Deployment").read()
        assert caught.value.retryable


async def test_a_refused_connection_is_retryable():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again at once: nothing listens there
    api = kube_client(f"http://127.0.0.1:{port}")
    try:
        with pytest.raises(protocol.TargetError, match="ClientConnectorError") as caught:
            await target(kubernetes.Listings(api), "Deployment").read()
        assert caught.value.retryable
    finally:
        await api.close()


async def test_policies_reach_only_their_own_namespace(cluster):
    kmock_cluster, api = cluster
    kmock_cluster.put_object(RESOURCE_OF["Deployment"], workload("Deployment", "web", "team-b", 2, 2))
    reg = registry.for_cluster(api.client, fresh_for=0.0)
    ref = specs.TargetRef(kind="Deployment", name="web")
    assert await reg.resolve("team-b", ref).read() == protocol.ReplicaCount(2, 2)
    with pytest.raises(protocol.TargetError, match="HTTP 404"):
        await reg.resolve("team-a", ref).read()  # the same name, seen from another namespace: not there
    for sneaky in ("team-b/web", "../team-b/deployments/web", "Web"):
        with pytest.raises(protocol.TargetError, match="policy's own namespace") as caught:
            reg.resolve("team-a", specs.TargetRef(kind="Deployment", name=sneaky))
        assert not caught.value.retryable


async def test_core_group_kinds_are_refused_clearly(cluster):
    _, api = cluster
    with pytest.raises(protocol.TargetError, match=r"targetRef\.apiVersion: .* was 'v1'"):
        kubernetes.KubernetesScaleTarget(
            api.client, "team-a", specs.TargetRef(api_version="v1", kind="Pod", name="p"), listings=api
        )


async def test_plurals_come_from_discovery_once_per_group_version(cluster):
    kmock_cluster, listings = cluster
    kmock_cluster.resources["example.com/v1/octopi"] = {"namespaced": True, "kind": "Octopus"}
    assert await listings.client.plural("example.com/v1", "Octopus") == "octopi"  # no English rule
    assert await listings.client.plural("apps/v1", "StatefulSet") == "statefulsets"
    assert await listings.client.plural("apps/v1", "Deployment") == "deployments"
    discovery = [str(r.url.path) for r in kmock_cluster if r.resource is None or r.resource.plural is None]
    assert sorted(discovery) == ["/apis/apps/v1", "/apis/example.com/v1"]  # cached
    with pytest.raises(clients.ApiError, match="no kind 'Nothing'"):
        await listings.client.plural("apps/v1", "Nothing")


async def test_the_reads_of_a_tick_share_one_list_per_namespace_and_kind(cluster):
    kmock_cluster, listings = cluster
    listings.fresh_for = 5.0
    for i in range(20):
        kmock_cluster.put_object(RESOURCE_OF["Deployment"], workload("Deployment", f"w{i}", "team-a", i, i))
    kmock_cluster.put_object(RESOURCE_OF["StatefulSet"], workload("StatefulSet", "s", "team-a", 2, 1))
    kmock_cluster.put_object(RESOURCE_OF["Deployment"], workload("Deployment", "w0", "team-b", 7, 7))
    reads = [target(listings, "Deployment", f"w{i}").read() for i in range(20)]
    reads += [
        target(listings, "StatefulSet", "s").read(),
        target(listings, "Deployment", "w0", "team-b").read(),
    ]
    counts = await asyncio.gather(*reads)
    assert counts[:20] == [protocol.ReplicaCount(i, i) for i in range(20)]
    assert counts[20:] == [protocol.ReplicaCount(2, 1), protocol.ReplicaCount(7, 7)]
    gets = [str(r.url.path) for r in kmock_cluster if r.resource is not None and r.resource.plural]
    assert sorted(gets) == [
        "/apis/apps/v1/namespaces/team-a/deployments",
        "/apis/apps/v1/namespaces/team-a/statefulsets",
        "/apis/apps/v1/namespaces/team-b/deployments",
    ]
    await target(listings, "Deployment", "w3").scale(9)  # a write shows in the listing at once
    assert await target(listings, "Deployment", "w3").read() == protocol.ReplicaCount(9, 3)


class ConstantSource:
    def __init__(self, value: float) -> None:
        self.value = value

    async def fetch(self, queries):
        return {q: sources.QueryResult(self.value) for q in queries}


def scale_to_value(spec, observation, state, now):
    desired = int(observation.samples[0].value)
    current = observation.current_replicas
    return decisions.Decision(now, current, desired, desired, "test", "test"), state


async def test_the_controller_rides_out_conflicts_and_a_broken_target_does_not_stop_the_others(cluster):
    kmock_cluster, api = cluster
    for name in ("web", "worker"):
        kmock_cluster.put_object(RESOURCE_OF["Deployment"], workload("Deployment", name, "team-a", 1, 1))
    kmock_cluster.inject("PATCH", "/deployments/web/scale", status=409, times=2)
    kmock_cluster.inject("PATCH", "/deployments/worker/scale", status=500, times=10)
    reg = registry.for_cluster(api.client, fresh_for=0.0)

    def managed(name: str) -> policies.ManagedPolicy:
        spec = specs.parse_policy(
            {
                "targetRef": {"name": name},
                "maxReplicas": 10,
                "metrics": [{"name": "m", "query": "q", "target": {"type": "Value", "value": 1}}],
            }
        )
        return policies.ManagedPolicy(
            policies.PolicyKey("team-a", name),
            spec,
            decisions.ScalingState(),
            reg.resolve("team-a", spec.target_ref),
        )

    ctl = ticking.Controller(
        ConstantSource(4), decide=scale_to_value, backoff=retrying.Backoff(retries=3, initial=0.01)
    )
    web, worker = await ctl.tick([managed("web"), managed("worker")], now=1.0)
    assert web.scaled and web.error is None
    assert kmock_cluster.read_object(RESOURCE_OF["Deployment"], "team-a", "web")["spec"]["replicas"] == 4
    assert not worker.scaled
    assert worker.error.startswith("cannot scale Deployment team-a/worker from 1 to 4: cannot scale to 4")
    assert worker.error.endswith("(after 4 attempts)")
    assert kmock_cluster.read_object(RESOURCE_OF["Deployment"], "team-a", "worker")["spec"]["replicas"] == 1


async def test_any_custom_resource_with_a_scale_subresource():
    plain = KubernetesCluster(auto_ready=False)
    plain.scalable.add(("example.com", "workerpools"))
    async with serving(plain) as listings:
        plain.resources["example.com/v1/workerpools"] = {"namespaced": True, "kind": "WorkerPool"}
        plain.put_object(
            "example.com/v1/workerpools",
            {
                "apiVersion": "example.com/v1",
                "kind": "WorkerPool",
                "metadata": {"name": "pool", "namespace": "team-a"},
                "spec": {"replicas": 2},
                "status": {"readyReplicas": 1},
            },
        )
        ref = specs.TargetRef(api_version="example.com/v1", kind="WorkerPool", name="pool")
        pool = kubernetes.KubernetesScaleTarget(listings.client, "team-a", ref, listings=listings)
        assert await pool.read() == protocol.ReplicaCount(2, 1)
        await pool.scale(4)
        assert plain.read_object("example.com/v1/workerpools", "team-a", "pool")["spec"] == {"replicas": 4}
        assert [str(r.url.path) for r in plain["patch"]] == [
            "/apis/example.com/v1/namespaces/team-a/workerpools/pool/scale"
        ]
