"""operator-leader-loss on Kubernetes: the operator Pod that holds the `scaleplane-operator` Lease goes
(deleted, or a Chaos Mesh PodChaos); the standby replica takes the Lease once it lapses and actuates.

The operator's Deployment (operator/deployment.yaml) runs two replicas labelled
`app.kubernetes.io/name=scaleplane-operator`, each naming itself in the Lease by its Pod's name
(`POD_NAME`), so the holder IS the Pod to take away. The drill reads the Lease and the Pods; the
takeover is the operator's own (`scaleplane.operator.loop.leasing`).

What the drill cannot see on a cluster is every scale write: that no decision was missed or applied
twice is proven by the test (tests/drills/test_operator_leader_loss.py: two real operators on kmock,
every /scale PATCH from kmock's request log), and on a cluster by the API server's audit log. Here
`verify-actuations` says so, and the verdict cannot be PolicyMet without a data check.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from kubernetes.client.api import coordination_v1_api, core_v1_api

from scaleplane.drills.actions import Action, act
from scaleplane.drills.engine import backends
from scaleplane.drills.kubernetes import cnpgfailovers

if TYPE_CHECKING:
    from scaleplane.drills.kubernetes.drilling import KubernetesBackend

Outcome = backends.Outcome
LEASE, SELECTOR = "scaleplane-operator", "app.kubernetes.io/name=scaleplane-operator"
HOLDER = f"kubectl get lease {LEASE} -n NAMESPACE -o jsonpath='{{.spec.holderIdentity}}'"
PODS = f"kubectl get pods -n NAMESPACE -l {SELECTOR}"


def _ready(pod: dict[str, Any]) -> bool:
    conditions = (pod.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


class LeaderLoss:
    def __init__(self, backend: KubernetesBackend) -> None:
        self.b = backend
        self.leader: str | None = None
        self.replicas = 0
        self.transitions = 0

    def table(self) -> dict[str, Action]:
        return {
            "start-controllers": act(self._prepare, HOLDER, PODS),
            "kill-leader": act(
                self._inject,
                "kubectl delete pod LEADER_POD -n NAMESPACE --grace-period=0",
                cnpgfailovers.CHAOS.replace("POD]", "LEADER_POD]"),
            ),
            "detect-leader-lost": act(self._detect, "kubectl get pod LEADER_POD -n NAMESPACE"),
            "decide-standby-healthy": act(self._decide, PODS),
            "await-takeover": act(self._await_takeover, HOLDER),
            "verify-actuations": act(
                lambda t: Outcome(
                    True, "not checked on a cluster: every scale write is in the API server's audit log only"
                )
            ),
            "rejoin-old-leader": act(self._rejoin, PODS),
            "stop-controllers": act(lambda t: self.b.clean_up("the operator is yours, it healed itself")),
        }

    def _lease(self) -> dict[str, Any]:
        api = coordination_v1_api.CoordinationV1Api(self.b.client())
        response: Any = api.read_namespaced_lease(LEASE, self.b.namespace, _preload_content=False)
        found: dict[str, Any] = json.loads(response.data).get("spec") or {}
        return found

    def _pods(self) -> list[dict[str, Any]]:
        api = core_v1_api.CoreV1Api(self.b.client())
        response: Any = api.list_namespaced_pod(
            self.b.namespace, label_selector=SELECTOR, _preload_content=False
        )
        found: list[dict[str, Any]] = json.loads(response.data).get("items") or []
        return [p for p in found if not (p.get("metadata") or {}).get("deletionTimestamp")]

    def _prepare(self, timeout: float) -> Outcome:
        lease, pods = self._lease(), self._pods()
        self.leader, self.transitions = (
            lease.get("holderIdentity") or None,
            int(lease.get("leaseTransitions") or 0),
        )
        names = sorted(p["metadata"]["name"] for p in pods if _ready(p))
        self.replicas = len(names)
        ok = self.leader in names and len(names) >= 2
        return Outcome(
            ok, f"Lease {LEASE} held by {self.leader}; ready operator Pods: {', '.join(names) or 'none'}"
        )

    def _inject(self, timeout: float) -> Outcome:
        assert self.leader is not None
        return self.b.kill_pod(self.leader, "operator leader")

    def _detect(self, timeout: float) -> Outcome:
        gone = self.b.until(lambda: self.b.pod(self.leader or "") is None, timeout)
        marks = {"detected": self.b.clock.now()} if gone else {}
        lapse = self._lease().get("leaseDurationSeconds")
        seen = (
            f"{self.leader} is gone; its Lease lapses after {lapse} s"
            if gone
            else f"{self.leader} still runs"
        )
        return Outcome(bool(gone), seen, marks)

    def _decide(self, timeout: float) -> Outcome:
        standbys = sorted(
            p["metadata"]["name"] for p in self._pods() if _ready(p) and p["metadata"]["name"] != self.leader
        )
        return Outcome(
            bool(standbys),
            f"standby replicas {', '.join(standbys) or 'none'}: one takes the Lease, no manual edit",
        )

    def _await_takeover(self, timeout: float) -> Outcome:
        def taken() -> str | None:
            holder = self._lease().get("holderIdentity")
            return str(holder) if holder and holder != self.leader else None

        new = self.b.until(taken, timeout)
        if not new:
            return Outcome(False, f"the Lease is still {self.leader}'s (or nobody's) after {timeout:g} s")
        transitions = int(self._lease().get("leaseTransitions") or 0)
        return Outcome(
            True,
            f"{new} holds the Lease (transitions {self.transitions} -> {transitions})",
            {"failover": self.b.clock.now()},
        )

    def _rejoin(self, timeout: float) -> Outcome:
        def back() -> bool:
            return len([p for p in self._pods() if _ready(p)]) >= self.replicas

        ok = self.b.until(back, timeout)
        holder = self._lease().get("holderIdentity")
        marks = {"fail back": self.b.clock.now()} if ok else {}
        seen = (
            f"{self.replicas} operator Pods ready again, {holder} still leads"
            if ok
            else "the Deployment did not replace the Pod"
        )
        return Outcome(bool(ok), seen, marks)
