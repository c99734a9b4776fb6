"""The kubernetes drill backend: db-primary-loss on a CloudNativePG `Cluster`. The fault is the deletion
of the primary's Pod (what CNPG's own docs use to show a failover); CloudNativePG fails over (it sets
`status.targetPrimary` to the most aligned replica, the instance manager promotes it, `currentPrimary`
follows, the phase goes from "Failing over" back to "Cluster in healthy state") and recreates the Pod as
a replica. The drill reads the Cluster's status; it never patches it.

Like the aws backend, RTO and RPO need a data-plane probe (`dsn`: the Cluster's `-rw` Service as seen
from where the drill runs); without one the drill checks the control plane only and says so.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from kubernetes.client import api_client, configuration
from kubernetes.client.api import core_v1_api, custom_objects_api

from scaleplane.drills import backends, clocks, probes, probing

SCENARIOS = ("db-primary-loss",)
GROUP, VERSION, PLURAL = "postgresql.cnpg.io", "v1", "clusters"
HEALTHY, FAILING_OVER = "Cluster in healthy state", "Failing over"
COMMANDS = {
    "start-cluster": ["kubectl cnpg status CLUSTER -n NAMESPACE"],
    "kill-primary": ["kubectl delete pod PRIMARY_POD -n NAMESPACE --grace-period=0"],
    "detect-primary-down": ["kubectl get cluster CLUSTER -n NAMESPACE -o jsonpath='{.status.phase}'"],
    "decide-failover-candidate": [
        "kubectl get cluster CLUSTER -n NAMESPACE -o jsonpath='{.status.targetPrimary}'"
    ],
    "await-promotion": ["kubectl get cluster CLUSTER -n NAMESPACE -o jsonpath='{.status.currentPrimary}'"],
    "rejoin-old-primary": ["kubectl get pod OLD_PRIMARY_POD -n NAMESPACE -L cnpg.io/instanceRole"],
}


def api_for(host: str) -> api_client.ApiClient:
    """A client for an API server URL (tests: kmock); in a cluster, use the kubeconfig's instead."""
    conf = configuration.Configuration(host=host.rstrip("/"))
    conf.retries = 0
    return api_client.ApiClient(conf)


class KubernetesBackend:
    target = "kubernetes"

    def __init__(
        self,
        *,
        scenario: str,
        cluster: str = "",
        namespace: str = "default",
        api: api_client.ApiClient | None = None,
        dsn: str | None = None,
        clock: probing.Clock | None = None,
        poll: float = 0.2,
        **_: Any,
    ) -> None:
        self.scenario, self.cluster, self.namespace, self.dsn = scenario, cluster, namespace, dsn
        self.clock = clock or clocks.WallClock()
        self._api = api
        self.poll = poll  # seconds between reads of the Cluster's status
        self.old: str | None = None
        self.fault_at: float | None = None
        self.probe: probing.Probe | None = None
        self.actions: dict[str, Callable[[float], backends.Outcome]] = {
            "start-cluster": self._prepare,
            "start-probes": self._start_probes,
            "kill-primary": self._inject,
            "detect-primary-down": self._detect,
            "decide-failover-candidate": self._decide,
            "await-promotion": self._await_promotion,
            "verify-writes-resume": lambda t: self._await_probe("write", t),
            "verify-reads-resume": lambda t: self._await_probe("read", t),
            "verify-acknowledged-commits": self._check_data,
            "rejoin-old-primary": self._rejoin,
            "stop-cluster": self._rollback,
        }

    def supports(self, scenario: str) -> bool:
        return scenario in SCENARIOS

    def commands(self, step_id: str) -> list[str]:
        return list(COMMANDS.get(step_id, []))

    def perform(self, step_id: str, timeout: float) -> backends.Outcome:
        action = self.actions.get(step_id)
        if action is None:
            return backends.Outcome(False, f"the kubernetes backend has no step {step_id!r}")
        return action(timeout)

    def probe_log(self) -> probes.ProbeLog:
        return self.probe.log() if self.probe is not None else probes.ProbeLog()

    # --- helpers -----------------------------------------------------------------------------------------
    def _client(self) -> api_client.ApiClient:
        if self._api is None:
            from kubernetes import config as k8s_config

            self._api = k8s_config.new_client_from_config()  # type: ignore[no-untyped-call]
        return self._api

    def _status(self) -> dict[str, Any]:
        api = custom_objects_api.CustomObjectsApi(self._client())
        obj: Any = api.get_namespaced_custom_object(GROUP, VERSION, self.namespace, PLURAL, self.cluster)
        status: dict[str, Any] = obj.get("status") or {}
        status["_instances"] = (obj.get("spec") or {}).get("instances")
        return status

    def _pod(self, name: str) -> dict[str, Any] | None:
        api = core_v1_api.CoreV1Api(self._client())
        try:
            response: Any = api.read_namespaced_pod(name, self.namespace, _preload_content=False)
        except Exception:  # absent (404) or not answering: either way not a running replica yet
            return None
        pod: dict[str, Any] = json.loads(response.data)
        return pod

    def _until(self, check: Callable[[], Any], timeout: float, interval: float | None = None) -> Any:
        interval = self.poll if interval is None else interval
        deadline = self.clock.now() + timeout
        while True:
            value = check()
            if value or self.clock.now() > deadline:
                return value
            self.clock.sleep(interval)

    # --- steps -------------------------------------------------------------------------------------------
    def _prepare(self, timeout: float) -> backends.Outcome:
        status = self._status()
        self.old = status.get("currentPrimary")
        ready, phase = status.get("readyInstances", 0), status.get("phase")
        ok = phase == HEALTHY and self.old is not None and ready >= 2
        return backends.Outcome(ok, f"{self.cluster}: {phase}, primary {self.old}, {ready} ready instances")

    def _start_probes(self, timeout: float) -> backends.Outcome:
        if self.dsn is None:
            return backends.Outcome(
                True, "no probe: no database endpoint given (dsn); RTO and RPO not measured"
            )
        self.probe = probing.Probe(probing.SqlStore(self.dsn, self.dsn), self.clock)
        self.probe.create_table()
        self.probe.start()
        probe = self.probe
        ok = self._until(lambda: probe.count("write", ok=True, since=0) >= 20, timeout)
        return backends.Outcome(bool(ok), f"{probe.count('write', ok=True, since=0)} writes acknowledged")

    def _inject(self, timeout: float) -> backends.Outcome:
        assert self.old is not None
        api = core_v1_api.CoreV1Api(self._client())
        api.delete_namespaced_pod(self.old, self.namespace, grace_period_seconds=0, _preload_content=False)
        self.fault_at = self.clock.now()
        return backends.Outcome(True, f"pod {self.old} (primary) deleted", {"fault": self.fault_at})

    def _detect(self, timeout: float) -> backends.Outcome:
        def seen() -> str | None:
            status = self._status()
            moved = status.get("targetPrimary") != self.old or status.get("currentPrimary") != self.old
            return str(status.get("phase")) if status.get("phase") == FAILING_OVER or moved else None

        phase = self._until(seen, timeout)
        marks = {"detected": self.clock.now()} if phase else {}
        return backends.Outcome(bool(phase), f"the Cluster reports: {phase or 'no change'}", marks)

    def _decide(self, timeout: float) -> backends.Outcome:
        status = self._status()
        target = status.get("targetPrimary")
        healthy = (status.get("instancesStatus") or {}).get("healthy") or []
        ok = target not in (None, self.old) and target in healthy
        return backends.Outcome(
            ok, f"CloudNativePG promotes {target} (healthy instances: {', '.join(healthy)})"
        )

    def _await_promotion(self, timeout: float) -> backends.Outcome:
        def promoted() -> str | None:
            status = self._status()
            current = status.get("currentPrimary")
            done = current not in (None, self.old) and current == status.get("targetPrimary")
            return str(current) if done else None

        new = self._until(promoted, timeout)
        if not new:
            return backends.Outcome(False, f"no new primary within {timeout:g} s")
        return backends.Outcome(True, f"{new} is the primary", {"failover": self.clock.now()})

    def _await_probe(self, kind: str, timeout: float) -> backends.Outcome:
        probe, since = self.probe, self.fault_at
        if probe is None or since is None:
            return backends.Outcome(True, f"{kind}s not measured: no probe")
        ok = self._until(lambda: probe.count(kind, ok=True, since=since) > 0, timeout, interval=0.05)
        return backends.Outcome(bool(ok), f"{kind}s {'resumed' if ok else 'did not resume'} after the fault")

    def _check_data(self, timeout: float) -> backends.Outcome:
        if self.probe is None:
            return backends.Outcome(True, "data check not run: no probe")
        self.probe.stop()
        return backends.Outcome(True, f"{len(self.probe.check())} numbers found on the new primary")

    def _rejoin(self, timeout: float) -> backends.Outcome:
        assert self.old is not None

        def back() -> bool:
            pod, status = self._pod(self.old or ""), self._status()
            role = ((pod or {}).get("metadata") or {}).get("labels", {}).get("cnpg.io/instanceRole")
            return (
                role == "replica"
                and status.get("phase") == HEALTHY
                and (status.get("readyInstances") == status.get("_instances"))
            )

        ok = self._until(back, timeout)
        marks = {"fail back": self.clock.now()} if ok else {}
        return backends.Outcome(
            bool(ok), f"{self.old} is back as a replica" if ok else f"{self.old} is not back", marks
        )

    def _rollback(self, timeout: float) -> backends.Outcome:
        if self.probe is not None:
            self.probe.stop(timeout=5)
        return backends.Outcome(True, "nothing to undo: the Cluster is CloudNativePG's, it healed itself")
