"""The kubernetes backend against kmock, with CloudNativePG's failover scripted from CNPG's documentation
("Automated failover"): the primary Pod is deleted; the operator sets `status.phase` "Failing over" and
`status.targetPrimary` to the most aligned replica; the instance manager promotes it and
`status.currentPrimary` follows; the operator recreates the lost Pod, which rejoins as a replica, and the
phase is "Cluster in healthy state" again. kmock cannot run PostgreSQL: RTO and RPO stay unmeasured."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import kmock
import pytest

from scaleplane.drills import kubernetes, running, scenarios
from tests.support.kmock_cluster import KubernetesCluster

pytestmark = pytest.mark.servers
CLUSTERS, PODS, NS, NAME = "postgresql.cnpg.io/v1/clusters", "v1/pods", "db", "orders"
INSTANCES = ["orders-1", "orders-2", "orders-3"]


@dataclass
class FastClock:
    t: float = 0.0

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.t += seconds
        threading.Event().wait(min(seconds, 0.02))  # let the emulator's scripted steps run meanwhile


def pod(name: str, role: str) -> dict[str, Any]:
    labels = {"cnpg.io/cluster": NAME, "cnpg.io/instanceName": name, "cnpg.io/instanceRole": role}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": NS, "labels": labels},
        "spec": {"containers": [{"name": "postgres", "image": "ghcr.io/cloudnative-pg/postgresql:16"}]},
    }


class CnpgCluster(KubernetesCluster):
    """kmock plus CloudNativePG's failover, as its documentation tells it (not its code)."""

    step_delay = 0.2
    promote = True  # False: an operator that never promotes (to see the drill stop)

    async def _remove(self, resource: Any, key: Any, body: dict[str, Any]) -> None:
        await super()._remove(resource, key, body)
        labels = body.get("metadata", {}).get("labels", {})
        if resource.plural == "pods" and labels.get("cnpg.io/instanceRole") == "primary":
            asyncio.get_running_loop().create_task(self._fail_over(body["metadata"]["name"]))

    def _status(self, **changes: Any) -> None:
        obj = self.read_object(CLUSTERS, NS, NAME)
        assert obj is not None
        obj["status"] = {**obj["status"], **changes}
        self.put_object(CLUSTERS, obj)

    async def _fail_over(self, lost: str) -> None:
        survivors = [name for name in INSTANCES if name != lost]
        await asyncio.sleep(self.step_delay)
        self._status(
            phase="Failing over",
            targetPrimary=survivors[0],
            readyInstances=len(survivors),
            instancesStatus={"healthy": survivors, "failed": [lost]},
        )
        if not self.promote:
            return
        await asyncio.sleep(self.step_delay)
        promoted = self.read_object(PODS, NS, survivors[0])
        assert promoted is not None
        promoted["metadata"]["labels"]["cnpg.io/instanceRole"] = "primary"
        self.put_object(PODS, promoted)
        self._status(currentPrimary=survivors[0], phase="Waiting for the instances to become active")
        await asyncio.sleep(self.step_delay)
        self.put_object(PODS, pod(lost, "replica"))
        self._status(
            phase="Cluster in healthy state",
            readyInstances=len(INSTANCES),
            instancesStatus={"healthy": sorted(INSTANCES), "failed": []},
        )


@pytest.fixture
def cnpg() -> Iterator[tuple[CnpgCluster, str]]:
    """kmock on an event loop of its own thread: the drill's Kubernetes client is synchronous."""
    box: dict[str, Any] = {}
    ready = threading.Event()

    async def serve() -> None:
        cluster = CnpgCluster(auto_ready=False)
        async with cluster, kmock.Server(cluster) as server:
            cluster.resources[CLUSTERS] = {
                "namespaced": True,
                "verbs": ["get", "list", "patch"],
                "kind": "Cluster",
                "singular": "cluster",
                "subresources": ["status"],
            }
            cluster.resources[PODS] = {
                "namespaced": True,
                "verbs": ["get", "list", "delete", "create"],
                "kind": "Pod",
                "singular": "pod",
            }
            for name in INSTANCES:
                cluster.put_object(PODS, pod(name, "primary" if name == INSTANCES[0] else "replica"))
            cluster.put_object(
                CLUSTERS,
                {
                    "apiVersion": "postgresql.cnpg.io/v1",
                    "kind": "Cluster",
                    "metadata": {"name": NAME, "namespace": NS},
                    "spec": {"instances": 3},
                    "status": {
                        "phase": "Cluster in healthy state",
                        "currentPrimary": INSTANCES[0],
                        "targetPrimary": INSTANCES[0],
                        "readyInstances": 3,
                        "instances": 3,
                        "instancesStatus": {"healthy": INSTANCES, "failed": []},
                    },
                },
            )
            box.update(
                cluster=cluster, url=str(server.url), loop=asyncio.get_running_loop(), stop=asyncio.Event()
            )
            ready.set()
            await box["stop"].wait()

    thread = threading.Thread(target=lambda: asyncio.run(serve()), daemon=True)
    thread.start()
    assert ready.wait(20), "kmock did not start"
    try:
        yield box["cluster"], box["url"]
    finally:
        box["loop"].call_soon_threadsafe(box["stop"].set)
        thread.join(10)


def backend(url: str, poll: float = 0.2) -> kubernetes.KubernetesBackend:
    return kubernetes.KubernetesBackend(
        scenario="db-primary-loss",
        cluster=NAME,
        namespace=NS,
        api=kubernetes.api_for(url),
        clock=FastClock(),
        poll=poll,
    )


def test_deleting_the_primary_pod_is_a_cnpg_failover_the_drill_follows(cnpg: tuple[CnpgCluster, str]) -> None:
    cluster, url = cnpg
    b = backend(url)
    result = running.run(scenarios.DB_PRIMARY_LOSS, b, b.clock, execute=True)
    observed = {r.step.id: r.observed for r in result.results}
    assert all(r.ok for r in result.results), observed
    assert observed["kill-primary"] == "pod orders-1 (primary) deleted"
    assert observed["detect-primary-down"] == "the Cluster reports: Failing over"
    assert observed["await-promotion"] == "orders-2 is the primary"
    assert observed["rejoin-old-primary"] == "orders-1 is back as a replica"
    assert list(result.marks) == ["fault", "detected", "failover", "fail back"]
    assert result.verdict == "PolicyBreached" and result.breaches[0].startswith("RTO not measured")
    stored = cluster.read_object(CLUSTERS, NS, NAME)
    assert stored is not None and stored["status"]["currentPrimary"] == "orders-2"


def test_an_operator_that_never_promotes_stops_the_drill_at_its_timeout(
    cnpg: tuple[CnpgCluster, str],
) -> None:
    cluster, url = cnpg
    cluster.promote, cluster.step_delay = False, 0.01
    b = backend(url, poll=2.0)
    result = running.run(scenarios.DB_PRIMARY_LOSS, b, b.clock, execute=True)
    failed = [(r.step.id, r.observed) for r in result.results if not r.ok and not r.skipped]
    assert failed == [("await-promotion", "no new primary within 60 s")]
    rollback = next(r for r in result.results if r.step.id == "stop-cluster")
    assert rollback.ok and not rollback.skipped
    assert result.verdict == "PolicyBreached"
    stored = cluster.read_object(CLUSTERS, NS, NAME)
    assert stored is not None and stored["status"]["phase"] == "Failing over"
