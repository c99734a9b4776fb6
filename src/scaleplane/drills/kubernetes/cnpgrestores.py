"""restore-to-point-in-time on CloudNativePG, as its "Recovery" docs describe it: recovery is never in
place; a NEW Cluster is bootstrapped from a `Backup` of the same namespace (`bootstrap.recovery.backup`)
and replays the WAL archive up to `recoveryTarget.targetTime`. Its phase is "Setting up primary" while
the full-recovery Job runs, then "Cluster in healthy state".

The drill checks that the source archives WAL (condition `ContinuousArchiving` True), takes a Backup
(`spec.cluster.name`; `status.phase` completed), notes the mistake's moment, restores to one second
before it into `<cluster>-drill-<time>` (the source's spec, its object store's `serverName` changed so
the copy never archives over the source's WAL), and takes a Backup of the copy. Rollback deletes the
copy and the drill's Backups; the source is never touched. As on aws the mistake is a moment, not a
change (a probe would have to follow the copy's new Service): RTO and RPO are not measured here.
"""

from __future__ import annotations

import copy
import datetime
from typing import TYPE_CHECKING, Any

from scaleplane.drills.actions import Action, act
from scaleplane.drills.engine import backends

if TYPE_CHECKING:
    from scaleplane.drills.kubernetes.drilling import KubernetesBackend

Outcome = backends.Outcome
GROUP, VERSION = "postgresql.cnpg.io", "v1"
HEALTHY = "Cluster in healthy state"
NO_PROBE = "not measured: no probe on kubernetes restores (the copy has a new Service)"


def cnpg_time(at: float) -> str:
    """The timestamp form CNPG's docs use for targetTime: '2023-08-11 11:14:21.00000+00'."""
    return datetime.datetime.fromtimestamp(at, tz=datetime.UTC).strftime("%Y-%m-%d %H:%M:%S.00000+00")


class BackupRestore:
    def __init__(self, backend: KubernetesBackend) -> None:
        self.b = backend
        self.backups: list[str] = []
        self.copy: str | None = None
        self.target: str | None = None

    def table(self) -> dict[str, Action]:
        get = "kubectl get cluster {} -n NAMESPACE -o jsonpath="
        return {
            "start-archiving-database": act(
                self._prepare,
                get.format("CLUSTER") + "'{.status.conditions[?(@.type==\"ContinuousArchiving\")]}'",
            ),
            "take-full-backup": act(self._backup_source, "kubectl cnpg backup CLUSTER -n NAMESPACE"),
            "start-write-probe": act(lambda t: Outcome(True, NO_PROBE)),
            "drop-table-by-mistake": act(self._mistake),
            "detect-data-missing": act(lambda t: Outcome(True, NO_PROBE)),
            "decide-restore-target": act(
                self._decide, "kubectl get backup BACKUP -n NAMESPACE -o jsonpath='{.status.stoppedAt}'"
            ),
            "restore-before-mistake": act(
                self._restore,
                "kubectl apply -f restore.yaml  # bootstrap.recovery: {backup: {name: BACKUP}, "
                "recoveryTarget: {targetTime: TIME}}",
                get.format("COPY") + "'{.status.phase}'",
            ),
            "verify-writes-resume": act(lambda t: Outcome(True, NO_PROBE)),
            "verify-acknowledged-commits": act(lambda t: Outcome(True, "data check not run: no probe")),
            "take-backup-after-restore": act(self._backup_copy, "kubectl cnpg backup COPY -n NAMESPACE"),
            "stop-archiving-database": act(self._rollback, "kubectl delete cluster COPY -n NAMESPACE"),
        }

    def _create(self, plural: str, body: dict[str, Any]) -> None:
        self.b.objects().create_namespaced_custom_object(GROUP, VERSION, self.b.namespace, plural, body)

    def _delete(self, plural: str, name: str) -> None:
        self.b.objects().delete_namespaced_custom_object(GROUP, VERSION, self.b.namespace, plural, name)

    def _prepare(self, timeout: float) -> Outcome:
        status = self.b.status()
        archiving: dict[str, Any] = next(
            (c for c in status.get("conditions") or [] if c.get("type") == "ContinuousArchiving"), {}
        )
        ok = status.get("phase") == HEALTHY and archiving.get("status") == "True"
        return Outcome(
            ok,
            f"{self.b.cluster}: {status.get('phase')}, "
            f"ContinuousArchiving {archiving.get('status', 'absent')}",
        )

    def _backup(self, cluster: str, timeout: float) -> Outcome:
        name = f"{cluster}-drill-{int(self.b.clock.now())}"[:63]
        self._create(
            "backups",
            {
                "apiVersion": f"{GROUP}/{VERSION}",
                "kind": "Backup",
                "metadata": {
                    "name": name,
                    "namespace": self.b.namespace,
                    "labels": {"scaleplane.io/drill": "restore"},
                },
                "spec": {"cluster": {"name": cluster}},
            },
        )
        self.backups.append(name)
        phase = self.b.until(
            lambda: (
                (p := ((self.b.read(name, "backups") or {}).get("status") or {}).get("phase"))
                in ("completed", "failed")
                and p
            ),
            timeout,
        )
        return Outcome(phase == "completed", f"Backup {name} of {cluster}: {phase or 'not finished'}")

    def _backup_source(self, timeout: float) -> Outcome:
        return self._backup(self.b.cluster, timeout)

    def _mistake(self, timeout: float) -> Outcome:
        return self.b.fault("the mistake's moment, noted (no data changed: no SQL access from the drill)")

    def _decide(self, timeout: float) -> Outcome:
        assert self.b.fault_at is not None and self.backups
        backup = (self.b.read(self.backups[0], "backups") or {}).get("status") or {}
        self.target = cnpg_time(self.b.fault_at - 1)
        self.copy = f"{self.b.cluster}-drill-{int(self.b.fault_at)}"[:50]
        # a target before the end of the base backup cannot be reached by replaying WAL forwards
        stopped = str(backup.get("stoppedAt") or "")
        ok = bool(stopped) and datetime.datetime.fromisoformat(stopped).timestamp() <= self.b.fault_at - 1
        return Outcome(
            ok, f"restore to {self.target} from Backup {self.backups[0]} (ended {stopped or 'never'})"
        )

    def _restore(self, timeout: float) -> Outcome:
        source = self.b.read(self.b.cluster) or {}
        spec = copy.deepcopy(source.get("spec") or {})
        spec.pop("bootstrap", None)
        store = (spec.get("backup") or {}).get("barmanObjectStore")
        if store is not None:
            store["serverName"] = self.copy  # its own WAL archive, never the source's
        spec["bootstrap"] = {
            "recovery": {"backup": {"name": self.backups[0]}, "recoveryTarget": {"targetTime": self.target}}
        }
        self._create(
            "clusters",
            {
                "apiVersion": f"{GROUP}/{VERSION}",
                "kind": "Cluster",
                "metadata": {
                    "name": self.copy,
                    "namespace": self.b.namespace,
                    "labels": {"scaleplane.io/drill": "restore"},
                },
                "spec": spec,
            },
        )

        def healthy() -> bool:
            status = self.b.status(self.copy)
            return status.get("phase") == HEALTHY and status.get("readyInstances") == status.get("_instances")

        ok = self.b.until(healthy, timeout)
        phase = self.b.status(self.copy).get("phase")
        marks = {"restore": self.b.clock.now()} if ok else {}
        return Outcome(bool(ok), f"Cluster {self.copy}: {phase}, recovered to {self.target}", marks)

    def _backup_copy(self, timeout: float) -> Outcome:
        return self._backup(self.copy or "", timeout)

    def _rollback(self, timeout: float) -> Outcome:
        gone = []
        for name in self.backups:
            if self.b.read(name, "backups") is not None:
                self._delete("backups", name)
                gone.append(f"Backup {name}")
        if self.copy is not None and self.b.read(self.copy) is not None:
            self._delete("clusters", self.copy)
            gone.append(f"Cluster {self.copy}")
        self.b.stop_probes()
        return Outcome(True, f"deleted {', '.join(gone) or 'nothing'}; {self.b.cluster} untouched")
