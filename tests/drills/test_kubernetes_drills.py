"""The kubernetes backend against kmock, with CloudNativePG (and Chaos Mesh) scripted from their docs.

- "Automated failover": the primary Pod is deleted; the operator sets `status.phase` "Failing over" and
  `status.targetPrimary` to the most aligned replica; the instance manager promotes it and
  `status.currentPrimary` follows; the lost Pod rejoins as a replica, the phase is healthy again.
- a replica Pod deleted: `readyInstances` drops, it is listed under `instancesStatus.failed`, the Pod is
  recreated; the primary never moves.
- "Recovery": a Backup goes running -> completed (`stoppedAt`); a new Cluster with
  `bootstrap.recovery` is "Setting up primary", then healthy.
- Chaos Mesh: a PodChaos (pod-kill) makes its controller delete the selected Pod.
kmock cannot run PostgreSQL: RTO and RPO stay unmeasured."""

from __future__ import annotations

import asyncio
import copy
import datetime
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import kmock
import pytest

from scaleplane.drills.engine import running, scenarios
from scaleplane.drills.kubernetes import cnpgrestores, drilling
from tests.support.kmock_cluster import KubernetesCluster

pytestmark = pytest.mark.servers
CLUSTERS, PODS, NS, NAME = "postgresql.cnpg.io/v1/clusters", "v1/pods", "db", "orders"
BACKUPS, CHAOS = "postgresql.cnpg.io/v1/backups", "chaos-mesh.org/v1alpha1/podchaos"
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

    recovered: dict[
        str, Any
    ]  # Cluster name -> its bootstrap.recovery, as the operator got it (set by the fixture)
    tasks: set[asyncio.Task[None]]  # the scripted steps under way

    def _spawn(self, step: Any) -> None:
        task = asyncio.get_running_loop().create_task(step)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _remove(self, resource: Any, key: Any, body: dict[str, Any]) -> None:
        await super()._remove(resource, key, body)
        labels = body.get("metadata", {}).get("labels", {})
        if resource.plural == "pods" and labels.get("cnpg.io/cluster") == NAME:
            lose = self._fail_over if labels.get("cnpg.io/instanceRole") == "primary" else self._lose_replica
            self._spawn(lose(body["metadata"]["name"]))

    async def _create(self, request: Any) -> Any:
        answer = await super()._create(request)
        body, plural = request.data, request.resource.plural
        if plural == "podchaos":  # Chaos Mesh's controller: pod-kill of the selected Pod
            self._spawn(self._pod_kill(body["spec"]["selector"]["pods"][NS][0]))
        elif plural == "backups":
            self._spawn(self._back_up(body["metadata"]["name"]))
        elif plural == "clusters" and "recovery" in (body["spec"].get("bootstrap") or {}):
            self.recovered[body["metadata"]["name"]] = body["spec"]["bootstrap"]["recovery"]
            self._spawn(self._recover(body["metadata"]["name"], int(body["spec"]["instances"])))
        return answer

    def _patch_status(self, resource: str, name: str, **changes: Any) -> None:
        obj = self.read_object(resource, NS, name)
        assert obj is not None
        obj["status"] = {**(obj.get("status") or {}), **changes}
        self.put_object(resource, obj)

    async def _pod_kill(self, name: str) -> None:
        await asyncio.sleep(self.step_delay)
        key = (kmock.resource(PODS), NS, name)
        async with self._lock:
            await self._remove(key[0], key, copy.deepcopy(self.objects[key].raw))

    async def _back_up(self, name: str) -> None:
        started = datetime.datetime.now(tz=datetime.UTC) - datetime.timedelta(
            seconds=30
        )  # a past base backup
        self._patch_status(BACKUPS, name, phase="running", startedAt=started.isoformat())
        await asyncio.sleep(self.step_delay)
        stopped = started + datetime.timedelta(seconds=5)
        self._patch_status(BACKUPS, name, phase="completed", stoppedAt=stopped.isoformat())

    async def _recover(self, name: str, instances: int) -> None:
        # "Setting up primary" while the full-recovery Job replays WAL, then healthy (CNPG's Recovery docs)
        self._patch_status(CLUSTERS, name, phase="Setting up primary", readyInstances=0)
        await asyncio.sleep(self.step_delay)
        self._patch_status(
            CLUSTERS, name, phase="Cluster in healthy state", readyInstances=instances,
            currentPrimary=f"{name}-1", targetPrimary=f"{name}-1",
        )  # fmt: skip

    async def _lose_replica(self, lost: str) -> None:
        survivors = [name for name in INSTANCES if name != lost]
        await asyncio.sleep(self.step_delay)
        self._status(readyInstances=len(survivors), instancesStatus={"healthy": survivors, "failed": [lost]})
        await asyncio.sleep(self.step_delay)
        self.put_object(PODS, pod(lost, "replica"))  # recreated on its volume
        self._status(
            readyInstances=len(INSTANCES), instancesStatus={"healthy": sorted(INSTANCES), "failed": []}
        )

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
def cnpg(request: pytest.FixtureRequest) -> Iterator[tuple[CnpgCluster, str]]:
    """kmock on an event loop of its own thread: the drill's Kubernetes client is synchronous. With
    `indirect` param True, Chaos Mesh's PodChaos is served too (API discovery finds it)."""
    chaos_mesh = bool(getattr(request, "param", False))
    box: dict[str, Any] = {}
    ready = threading.Event()

    async def serve() -> None:
        cluster = CnpgCluster(auto_ready=False)
        cluster.recovered, cluster.tasks = {}, set()
        async with cluster, kmock.Server(cluster) as server:
            cluster.resources[CLUSTERS] = {
                "namespaced": True,
                "verbs": ["get", "list", "patch", "create", "delete"],
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
            cluster.resources[BACKUPS] = {
                "namespaced": True, "verbs": ["get", "list", "create", "delete"], "kind": "Backup",
                "singular": "backup", "subresources": ["status"],
            }  # fmt: skip
            if chaos_mesh:
                cluster.resources[CHAOS] = {
                    "namespaced": True, "verbs": ["get", "list", "create", "delete"], "kind": "PodChaos",
                    "singular": "podchaos",
                }  # fmt: skip
            for name in INSTANCES:
                cluster.put_object(PODS, pod(name, "primary" if name == INSTANCES[0] else "replica"))
            cluster.put_object(
                CLUSTERS,
                {
                    "apiVersion": "postgresql.cnpg.io/v1",
                    "kind": "Cluster",
                    "metadata": {"name": NAME, "namespace": NS},
                    "spec": {
                        "instances": 3,
                        "storage": {"size": "10Gi"},
                        "backup": {
                            "barmanObjectStore": {"destinationPath": "s3://backups/", "serverName": NAME}
                        },
                    },
                    "status": {
                        "phase": "Cluster in healthy state",
                        "currentPrimary": INSTANCES[0],
                        "targetPrimary": INSTANCES[0],
                        "readyInstances": 3,
                        "instances": 3,
                        "instancesStatus": {"healthy": INSTANCES, "failed": []},
                        "conditions": [{"type": "ContinuousArchiving", "status": "True"}],
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


def backend(
    url: str, poll: float = 0.2, scenario: str = "db-primary-loss", **options: Any
) -> drilling.KubernetesBackend:
    options.setdefault("clock", FastClock())
    return drilling.KubernetesBackend(
        scenario=scenario, cluster=NAME, namespace=NS, api=drilling.api_for(url), poll=poll, **options
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


def observed(result: running.DrillResult) -> dict[str, tuple[bool, str]]:
    return {r.step.id: (r.ok, r.observed) for r in result.results if not r.skipped}


def test_a_lost_replica_is_recreated_and_the_primary_never_moves(cnpg: tuple[CnpgCluster, str]) -> None:
    cluster, url = cnpg
    b = backend(url, scenario="db-replica-loss", fault="delete")
    result = running.run(scenarios.DB_REPLICA_LOSS, b, b.clock, execute=True)
    seen = observed(result)
    assert all(ok for ok, _ in seen.values()), seen
    assert seen["kill-sync-standby"][1] == "pod orders-2 (replica) deleted"
    assert seen["detect-replica-down"][1] == "orders-2 is not ready"
    assert seen["decide-keep-primary"][1] == "the primary is still orders-1: no failover"
    assert seen["await-new-sync-standby"][1] == "orders-3 acknowledge commits (ANY 1)"
    assert seen["rejoin-lost-replica"][1] == "orders-2 is back as a replica"
    stored = cluster.read_object(CLUSTERS, NS, NAME)
    assert stored is not None and stored["status"]["currentPrimary"] == "orders-1"


@pytest.mark.parametrize("cnpg", [True], indirect=True)
def test_with_chaos_mesh_installed_the_fault_is_a_podchaos_that_rollback_deletes(
    cnpg: tuple[CnpgCluster, str],
) -> None:
    cluster, url = cnpg
    b = backend(url)  # fault "auto": API discovery finds chaos-mesh.org/v1alpha1 podchaos
    result = running.run(scenarios.DB_PRIMARY_LOSS, b, b.clock, execute=True)
    seen = observed(result)
    assert all(ok for ok, _ in seen.values()), seen
    assert seen["kill-primary"][1] == "PodChaos scaleplane-drill-orders-1 kills pod orders-1 (primary)"
    assert seen["await-promotion"][1] == "orders-2 is the primary"
    assert seen["stop-cluster"][1].startswith("PodChaos scaleplane-drill-orders-1 deleted; ")
    assert cluster.read_object(CHAOS, NS, "scaleplane-drill-orders-1") is None
    created = [o for k, o in cluster.objects.items() if k[0] == kmock.resource(CHAOS)]
    assert created and created[0].history[0]["spec"]["action"] == "pod-kill"


def test_without_chaos_mesh_auto_deletes_the_pod(cnpg: tuple[CnpgCluster, str]) -> None:
    _, url = cnpg
    b = backend(url)
    assert not b.chaos_mesh_served()
    assert backend(url, fault="chaos-mesh").fault_kind == "chaos-mesh"


def test_a_backup_is_restored_into_a_new_cluster_one_second_before_the_mistake(
    cnpg: tuple[CnpgCluster, str],
) -> None:
    cluster, url = cnpg
    b = backend(url, scenario="restore-to-point-in-time", clock=FastClock(time.time()))
    result = running.run(scenarios.RESTORE_TO_POINT_IN_TIME, b, b.clock, execute=True)
    seen = observed(result)
    assert all(ok for ok, _ in seen.values()), seen
    fault_at = result.fault_at or 0
    copy_name = f"{NAME}-drill-{int(fault_at)}"
    recovery = cluster.recovered[copy_name]
    first_backup = recovery["backup"]["name"]
    assert recovery["recoveryTarget"] == {"targetTime": cnpgrestores.cnpg_time(fault_at - 1)}
    assert seen["take-full-backup"] == (True, f"Backup {first_backup} of {NAME}: completed")
    assert seen["restore-before-mistake"][1].startswith(f"Cluster {copy_name}: Cluster in healthy state")
    # the copy archives to its own serverName, never over the source's WAL
    created = next(o for k, o in cluster.objects.items() if k == (kmock.resource(CLUSTERS), NS, copy_name))
    assert created.history[0]["spec"]["backup"]["barmanObjectStore"]["serverName"] == copy_name
    assert cluster.read_object(CLUSTERS, NS, copy_name) is None  # rollback deleted the copy...
    assert cluster.read_object(CLUSTERS, NS, NAME) is not None  # ...and never touched the source
    assert cluster.read_object(BACKUPS, NS, first_backup) is None
    assert list(result.marks) == ["fault", "restore"] and result.verdict == "PolicyBreached"
