"""The kubernetes drill backend: scenarios on a CloudNativePG `Cluster`, whose operator does the recovery.

- db-primary-loss: the primary's Pod goes; CNPG fails over (`cnpgfailovers`).
- db-replica-loss: a replica's Pod goes; the primary stays, CNPG recreates the Pod (`cnpgfailovers`).
- restore-to-point-in-time: a CNPG `Backup`, then a NEW Cluster bootstrapped from it with
  `bootstrap.recovery.recoveryTarget.targetTime` one second before the mistake (`cnpgrestores`).
- operator-leader-loss: not CNPG: the scaleplane operator Pod holding the Lease goes, the standby takes
  over (`operatorleases`; `cluster` is unused).

The fault (`fault`): `delete` deletes the Pod (what CNPG's own docs do to show a failover);
`chaos-mesh` creates a Chaos Mesh `PodChaos` (action pod-kill) for it, deleted again in rollback;
`auto` (the default) uses Chaos Mesh when its CRD is served (API discovery of
`chaos-mesh.org/v1alpha1`), else deletes. The drill reads the Cluster's status; it never patches it.

cache-primary-loss is not offered: the stack's Redis chart (bitnami, `architecture: replication`,
no Sentinel) has no automatic failover, so there is nothing to rehearse but a Pod restart.

RTO and RPO need a data-plane probe (`dsn`: the Cluster's `-rw` Service as seen from where the drill
runs); without one the drill checks the control plane only and says so.
"""

from __future__ import annotations

import json
from typing import Any

from kubernetes.client import api_client, configuration
from kubernetes.client.api import core_v1_api, custom_objects_api

from scaleplane.drills import actions
from scaleplane.drills.engine import backends
from scaleplane.drills.kubernetes import cnpgfailovers, cnpgrestores, operatorleases
from scaleplane.drills.probing import clocks, loops

GROUP, VERSION, PLURAL = "postgresql.cnpg.io", "v1", "clusters"
CHAOS_GROUP, CHAOS_VERSION, CHAOS_PLURAL = "chaos-mesh.org", "v1alpha1", "podchaos"
HEALTHY, FAILING_OVER = "Cluster in healthy state", "Failing over"
FAULTS = ("auto", "delete", "chaos-mesh")


def api_for(host: str) -> api_client.ApiClient:
    """A client for an API server URL (tests: kmock); in a cluster, use the kubeconfig's instead."""
    conf = configuration.Configuration(host=host.rstrip("/"))
    conf.retries = 0
    return api_client.ApiClient(conf)


class KubernetesBackend(actions.TableBackend):
    target = "kubernetes"
    scenarios = ("db-primary-loss", "db-replica-loss", "restore-to-point-in-time", "operator-leader-loss")

    def __init__(
        self,
        *,
        scenario: str,
        cluster: str = "",
        namespace: str = "default",
        api: api_client.ApiClient | None = None,
        dsn: str | None = None,
        fault: str = "auto",
        clock: loops.Clock | None = None,
        poll: float = 0.2,
        **_: Any,
    ) -> None:
        if fault not in FAULTS:
            raise ValueError(f"fault must be one of {', '.join(FAULTS)}, was {fault!r}")
        super().__init__(scenario=scenario, clock=clock or clocks.WallClock(), poll=poll, dsn=dsn)
        self.cluster, self.namespace, self.fault_kind = cluster, namespace, fault
        self._api = api
        self.chaos: list[str] = []  # the PodChaos objects this drill created
        if scenario == "db-primary-loss":
            self.table = cnpgfailovers.PrimaryLoss(self).table()
        elif scenario == "db-replica-loss":
            self.table = cnpgfailovers.ReplicaLoss(self).table()
        elif scenario == "restore-to-point-in-time":
            self.table = cnpgrestores.BackupRestore(self).table()
        elif scenario == "operator-leader-loss":
            self.table = operatorleases.LeaderLoss(self).table()

    # --- the API -------------------------------------------------------------------------------------
    def client(self) -> api_client.ApiClient:
        if self._api is None:
            from kubernetes import config as k8s_config

            self._api = k8s_config.new_client_from_config()  # type: ignore[no-untyped-call]
        return self._api

    def objects(self) -> custom_objects_api.CustomObjectsApi:
        return custom_objects_api.CustomObjectsApi(self.client())

    def read(self, name: str, plural: str = PLURAL) -> dict[str, Any] | None:
        """A CNPG object (Cluster, Backup) as a dict, or None when it is absent."""
        try:
            found: Any = self.objects().get_namespaced_custom_object(
                GROUP, VERSION, self.namespace, plural, name
            )
        except Exception as error:  # the client raises ApiException; only a 404 means "absent"
            if getattr(error, "status", None) == 404:
                return None
            raise
        return dict(found)

    def status(self, name: str | None = None) -> dict[str, Any]:
        """The Cluster's status, with `_instances` (its spec.instances) beside it."""
        obj = self.read(name or self.cluster) or {}
        status: dict[str, Any] = dict(obj.get("status") or {})
        status["_instances"] = (obj.get("spec") or {}).get("instances")
        return status

    def pod(self, name: str) -> dict[str, Any] | None:
        api = core_v1_api.CoreV1Api(self.client())
        try:
            response: Any = api.read_namespaced_pod(name, self.namespace, _preload_content=False)
        except Exception:  # absent (404) or not answering: either way not a running instance yet
            return None
        pod: dict[str, Any] = json.loads(response.data)
        return pod

    def chaos_mesh_served(self) -> bool:
        """API discovery: does the server serve Chaos Mesh's PodChaos?"""
        try:
            response: Any = self.objects().get_api_resources(
                CHAOS_GROUP, CHAOS_VERSION, _preload_content=False
            )
        except Exception as error:
            if getattr(error, "status", None) == 404:
                return False
            raise
        found = json.loads(response.data)
        return any(r.get("name") == CHAOS_PLURAL for r in found.get("resources", []))

    # --- the fault -----------------------------------------------------------------------------------
    def kill_pod(self, name: str, role: str) -> backends.Outcome:
        use_chaos = self.fault_kind == "chaos-mesh" or (
            self.fault_kind == "auto" and self.chaos_mesh_served()
        )
        if not use_chaos:
            core_v1_api.CoreV1Api(self.client()).delete_namespaced_pod(
                name, self.namespace, grace_period_seconds=0, _preload_content=False
            )
            return self.fault(f"pod {name} ({role}) deleted")
        chaos = f"scaleplane-drill-{name}"[:63]
        body = {
            "apiVersion": f"{CHAOS_GROUP}/{CHAOS_VERSION}",
            "kind": "PodChaos",
            "metadata": {
                "name": chaos,
                "namespace": self.namespace,
                "labels": {"scaleplane.io/drill": self.scenario},
            },
            "spec": {
                "action": "pod-kill",
                "mode": "one",
                "gracePeriod": 0,
                "selector": {"pods": {self.namespace: [name]}},
            },
        }
        self.objects().create_namespaced_custom_object(
            CHAOS_GROUP, CHAOS_VERSION, self.namespace, CHAOS_PLURAL, body
        )
        self.chaos.append(chaos)
        return self.fault(f"PodChaos {chaos} kills pod {name} ({role})")

    def clean_up(self, then: str) -> backends.Outcome:
        self.stop_probes()
        for chaos in self.chaos:
            self.objects().delete_namespaced_custom_object(
                CHAOS_GROUP, CHAOS_VERSION, self.namespace, CHAOS_PLURAL, chaos
            )
        removed = f"PodChaos {', '.join(self.chaos)} deleted; " if self.chaos else ""
        return backends.Outcome(True, f"{removed}{then}")
