"""db-primary-loss and db-replica-loss on a CloudNativePG Cluster, read from its status as CNPG's docs
describe it ("Automated failover", "Instance pod configuration").

Primary: CNPG sets `status.targetPrimary` to the most aligned replica and the phase to "Failing over";
the instance manager promotes it and `currentPrimary` follows; the lost Pod comes back as a replica and
the phase is "Cluster in healthy state" again.

Replica: the primary stays (`currentPrimary` never moves); `readyInstances` drops and the instance is
listed under `instancesStatus.failed` until CNPG recreates its Pod on the same volume. With
synchronous replication (`minSyncReplicas`), commits need that many healthy replicas meanwhile: the
quorum form CNPG writes (`ANY n (...)`) lets any remaining replica acknowledge, which is what the act
step checks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scaleplane.drills.actions import Action, act
from scaleplane.drills.engine import backends

if TYPE_CHECKING:
    from scaleplane.drills.kubernetes.drilling import KubernetesBackend

Outcome = backends.Outcome
HEALTHY, FAILING_OVER = "Cluster in healthy state", "Failing over"
GET = "kubectl get cluster CLUSTER -n NAMESPACE -o jsonpath="
CHAOS = "kubectl apply -f podchaos.yaml  # Chaos Mesh: action pod-kill, selector.pods: {NAMESPACE: [POD]}"


def _role(pod: dict[str, Any] | None) -> str | None:
    role: str | None = ((pod or {}).get("metadata") or {}).get("labels", {}).get("cnpg.io/instanceRole")
    return role


class _Drill:
    def __init__(self, backend: KubernetesBackend) -> None:
        self.b = backend
        self.primary: str | None = None
        self.lost: str | None = None

    def _probe_steps(self) -> dict[str, Action]:
        b = self.b
        rollback = "nothing else to undo: the Cluster is CloudNativePG's, it healed itself"
        return {**b.probe_steps(), "stop-cluster": act(lambda t: b.clean_up(rollback))}

    def _prepare(self, timeout: float) -> Outcome:
        status = self.b.status()
        self.primary = status.get("currentPrimary")
        ready, phase = status.get("readyInstances", 0), status.get("phase")
        ok = phase == HEALTHY and self.primary is not None and ready >= 2
        return Outcome(ok, f"{self.b.cluster}: {phase}, primary {self.primary}, {ready} ready instances")

    def _back_as_replica(self, timeout: float) -> Outcome:
        lost = self.lost or ""

        def back() -> bool:
            status = self.b.status()
            healthy = status.get("phase") == HEALTHY and status.get("readyInstances") == status.get(
                "_instances"
            )
            return _role(self.b.pod(lost)) == "replica" and healthy

        ok = self.b.until(back, timeout)
        marks = {"fail back": self.b.clock.now()} if ok else {}
        return Outcome(bool(ok), f"{lost} is back as a replica" if ok else f"{lost} is not back", marks)


class PrimaryLoss(_Drill):
    def table(self) -> dict[str, Action]:
        return {
            "start-cluster": act(self._prepare, "kubectl cnpg status CLUSTER -n NAMESPACE"),
            "kill-primary": act(
                self._inject,
                "kubectl delete pod PRIMARY_POD -n NAMESPACE --grace-period=0",
                CHAOS.replace("POD]", "PRIMARY_POD]"),
            ),
            "detect-primary-down": act(self._detect, GET + "'{.status.phase}'"),
            "decide-failover-candidate": act(self._decide, GET + "'{.status.targetPrimary}'"),
            "await-promotion": act(self._await_promotion, GET + "'{.status.currentPrimary}'"),
            "rejoin-old-primary": act(
                self._back_as_replica, "kubectl get pod OLD_PRIMARY_POD -n NAMESPACE -L cnpg.io/instanceRole"
            ),
            **self._probe_steps(),
        }

    def _inject(self, timeout: float) -> Outcome:
        assert self.primary is not None
        self.lost = self.primary
        return self.b.kill_pod(self.primary, "primary")

    def _detect(self, timeout: float) -> Outcome:
        def seen() -> str | None:
            status = self.b.status()
            moved = (
                status.get("targetPrimary") != self.primary or status.get("currentPrimary") != self.primary
            )
            return str(status.get("phase")) if status.get("phase") == FAILING_OVER or moved else None

        phase = self.b.until(seen, timeout)
        marks = {"detected": self.b.clock.now()} if phase else {}
        return Outcome(bool(phase), f"the Cluster reports: {phase or 'no change'}", marks)

    def _decide(self, timeout: float) -> Outcome:
        status = self.b.status()
        target = status.get("targetPrimary")
        healthy = (status.get("instancesStatus") or {}).get("healthy") or []
        ok = target not in (None, self.primary) and target in healthy
        return Outcome(ok, f"CloudNativePG promotes {target} (healthy instances: {', '.join(healthy)})")

    def _await_promotion(self, timeout: float) -> Outcome:
        def promoted() -> str | None:
            status = self.b.status()
            current = status.get("currentPrimary")
            done = current not in (None, self.primary) and current == status.get("targetPrimary")
            return str(current) if done else None

        new = self.b.until(promoted, timeout)
        if not new:
            return Outcome(False, f"no new primary within {timeout:g} s")
        return Outcome(True, f"{new} is the primary", {"failover": self.b.clock.now()})


class ReplicaLoss(_Drill):
    def table(self) -> dict[str, Action]:
        failed = GET + "'{.status.instancesStatus.failed}'"
        return {
            "start-cluster": act(self._prepare_replica, "kubectl cnpg status CLUSTER -n NAMESPACE"),
            "kill-sync-standby": act(
                self._inject,
                "kubectl delete pod REPLICA_POD -n NAMESPACE --grace-period=0",
                CHAOS.replace("POD]", "REPLICA_POD]"),
            ),
            "detect-replica-down": act(self._detect, GET + "'{.status.readyInstances}'", failed),
            "decide-keep-primary": act(self._decide, GET + "'{.status.currentPrimary}'"),
            "await-new-sync-standby": act(self._await_quorum, GET + "'{.spec.minSyncReplicas}'"),
            "rejoin-lost-replica": act(
                self._back_as_replica, "kubectl get pod REPLICA_POD -n NAMESPACE -L cnpg.io/instanceRole"
            ),
            **self._probe_steps(),
        }

    def _replicas(self, status: dict[str, Any]) -> list[str]:
        healthy = (status.get("instancesStatus") or {}).get("healthy") or []
        return sorted(name for name in healthy if name != status.get("currentPrimary"))

    def _prepare_replica(self, timeout: float) -> Outcome:
        prepared = self._prepare(timeout)
        replicas = self._replicas(self.b.status())
        if not prepared.ok or not replicas:
            return Outcome(False, f"{prepared.observed}; a replica loss needs a healthy replica")
        self.lost = replicas[0]
        return Outcome(True, f"{prepared.observed}; the drill takes {self.lost}")

    def _inject(self, timeout: float) -> Outcome:
        assert self.lost is not None
        return self.b.kill_pod(self.lost, "replica")

    def _detect(self, timeout: float) -> Outcome:
        def seen() -> bool:
            status = self.b.status()
            failed = (status.get("instancesStatus") or {}).get("failed") or []
            return self.lost in failed or (status.get("readyInstances") or 0) < (
                status.get("_instances") or 0
            )

        ok = self.b.until(seen, timeout)
        marks = {"detected": self.b.clock.now()} if ok else {}
        return Outcome(
            bool(ok), f"{self.lost} is not ready" if ok else f"{self.lost} still counts as ready", marks
        )

    def _decide(self, timeout: float) -> Outcome:
        current = self.b.status().get("currentPrimary")
        return Outcome(current == self.primary, f"the primary is still {current}: no failover")

    def _await_quorum(self, timeout: float) -> Outcome:
        wanted = max(
            1, int(((self.b.read(self.b.cluster) or {}).get("spec") or {}).get("minSyncReplicas") or 0)
        )

        def enough() -> list[str] | None:
            status = self.b.status()
            left = [r for r in self._replicas(status) if r != self.lost]
            return left if len(left) >= wanted and status.get("currentPrimary") == self.primary else None

        left = self.b.until(enough, timeout)
        if not left:
            return Outcome(False, f"fewer than {wanted} healthy replicas left for synchronous commits")
        return Outcome(
            True,
            f"{', '.join(left)} acknowledge commits (ANY {wanted})",
            {"sync standby": self.b.clock.now()},
        )
