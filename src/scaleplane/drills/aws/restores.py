"""restore-to-point-in-time on AWS: RDS keeps automated backups and uploads transaction logs, so it can
restore a DB instance (`restore_db_instance_to_point_in_time`) or an Aurora cluster
(`restore_db_cluster_to_point_in_time`, then a writer instance in it: a restored cluster has none) to any
second between its earliest and its `LatestRestorableTime`. FIS has no action for any of it: bare calls.

The restore always lands in a NEW instance or cluster (`<source>-drill-<time>`), never over the source;
the drill deletes that copy and its own snapshots in rollback, and never touches the source's data.
The mistake is a moment, not a change: the drill has no SQL access to an RDS endpoint here (a probe
would have to follow the copy's new endpoint), so RTO and RPO are not measured on this target and the
report says so; what it proves is that a restore to one second before the mistake succeeds, and how
long RDS took.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any

from scaleplane.drills.actions import Action, act
from scaleplane.drills.engine import backends

if TYPE_CHECKING:
    from scaleplane.drills.aws.drilling import AwsBackend

Outcome = backends.Outcome
NO_PROBE = "not measured: no probe on aws restores (the copy has a new endpoint)"


class PointInTimeRestore:
    def __init__(self, backend: AwsBackend) -> None:
        self.b = backend
        self.aurora = backend.kind == "aurora"
        self.target: datetime.datetime | None = None
        self.copy: str | None = None
        self.snapshots: list[str] = []

    def table(self) -> dict[str, Action]:
        noun = "cluster" if self.aurora else "instance"
        flag = "--db-cluster-identifier" if self.aurora else "--db-instance-identifier"
        describe = f"aws rds describe-db-{noun}s {flag}"
        listing = "DBClusters" if self.aurora else "DBInstances"
        restore = (
            "aws rds restore-db-cluster-to-point-in-time --source-db-cluster-identifier SOURCE "
            "--db-cluster-identifier COPY --restore-to-time TIME"
            if self.aurora
            else "aws rds restore-db-instance-to-point-in-time --source-db-instance-identifier SOURCE "
            "--target-db-instance-identifier COPY --restore-time TIME"
        )
        snapshot = (
            "aws rds create-db-cluster-snapshot --db-cluster-snapshot-identifier NAME"
            if self.aurora
            else "aws rds create-db-snapshot --db-snapshot-identifier NAME"
        )
        return {
            "start-archiving-database": act(self._prepare, f"{describe} SOURCE"),
            "take-full-backup": act(self._backup_source, f"{snapshot} {flag} SOURCE"),
            "start-write-probe": act(lambda t: Outcome(True, NO_PROBE)),
            "drop-table-by-mistake": act(self._mistake),
            "detect-data-missing": act(lambda t: Outcome(True, NO_PROBE)),
            "decide-restore-target": act(
                self._decide,
                f"{describe} SOURCE --query '{listing}[0].LatestRestorableTime'",
            ),
            "restore-before-mistake": act(self._restore, restore, f"{describe} COPY"),
            "verify-writes-resume": act(lambda t: Outcome(True, NO_PROBE)),
            "verify-acknowledged-commits": act(lambda t: Outcome(True, "data check not run: no probe")),
            "take-backup-after-restore": act(self._backup_copy, f"{snapshot} {flag} COPY"),
            "stop-archiving-database": act(
                self._rollback, f"aws rds delete-db-{noun} {flag} COPY --skip-final-snapshot"
            ),
        }

    # --- reading RDS ------------------------------------------------------------------------------------
    def _describe(self, name: str) -> dict[str, Any]:
        if self.aurora:
            found: dict[str, Any] = self.b.rds.describe_db_clusters(DBClusterIdentifier=name)["DBClusters"][0]
        else:
            found = self.b.rds.describe_db_instances(DBInstanceIdentifier=name)["DBInstances"][0]
        return found

    def _status(self, name: str) -> str:
        found = self._describe(name)
        return str(found["Status"] if self.aurora else found["DBInstanceStatus"])

    def _snapshot(self, source: str, name: str, timeout: float) -> Outcome:
        rds = self.b.rds
        if self.aurora:
            rds.create_db_cluster_snapshot(DBClusterSnapshotIdentifier=name, DBClusterIdentifier=source)
        else:
            rds.create_db_snapshot(DBSnapshotIdentifier=name, DBInstanceIdentifier=source)
        self.snapshots.append(name)

        def status() -> str:
            if self.aurora:
                found = rds.describe_db_cluster_snapshots(DBClusterSnapshotIdentifier=name)[
                    "DBClusterSnapshots"
                ]
            else:
                found = rds.describe_db_snapshots(DBSnapshotIdentifier=name)["DBSnapshots"]
            return str(found[0]["Status"])

        ok = self.b.until(lambda: status() == "available", timeout)
        return Outcome(bool(ok), f"snapshot {name} of {source} is {status()}")

    # --- steps -------------------------------------------------------------------------------------------
    def _prepare(self, timeout: float) -> Outcome:
        found = self._describe(self.b.cluster)
        retention = int(found.get("BackupRetentionPeriod") or 0)
        status = self._status(self.b.cluster)
        latest = found.get("LatestRestorableTime")
        ok = status == "available" and retention >= 1 and latest is not None
        return Outcome(
            ok,
            f"{self.b.cluster} is {status}, automated backups kept {retention} days, "
            f"restorable up to {latest}",
        )

    def _backup_source(self, timeout: float) -> Outcome:
        return self._snapshot(self.b.cluster, f"{self.b.cluster}-drill-before", timeout)

    def _mistake(self, timeout: float) -> Outcome:
        refused = self.b.experiments.refuse_in_alarm()
        if refused is not None:
            return refused
        return self.b.fault("the mistake's moment, noted (no data changed: no SQL access on this target)")

    def _decide(self, timeout: float) -> Outcome:
        assert self.b.fault_at is not None
        self.target = datetime.datetime.fromtimestamp(self.b.fault_at - 1, tz=datetime.UTC).replace(
            microsecond=0
        )
        self.copy = f"{self.b.cluster}-drill-{int(self.b.fault_at)}"[:63]

        def restorable() -> bool:
            latest = self._describe(self.b.cluster).get("LatestRestorableTime")
            return latest is not None and latest >= self.target

        # RDS uploads transaction logs every few minutes: wait until the target second is restorable
        ok = self.b.until(restorable, timeout)
        when = self.target.isoformat()
        return Outcome(
            bool(ok),
            f"restore to {when}, one second before the mistake" if ok else f"{when} is not restorable yet",
        )

    def _restore(self, timeout: float) -> Outcome:
        rds, copy = self.b.rds, self.copy
        if self.aurora:
            source = self._describe(self.b.cluster)
            rds.restore_db_cluster_to_point_in_time(
                DBClusterIdentifier=copy, SourceDBClusterIdentifier=self.b.cluster, RestoreToTime=self.target
            )
            writer = next(
                m["DBInstanceIdentifier"] for m in source["DBClusterMembers"] if m["IsClusterWriter"]
            )
            klass = rds.describe_db_instances(DBInstanceIdentifier=writer)["DBInstances"][0][
                "DBInstanceClass"
            ]
            rds.create_db_instance(
                DBInstanceIdentifier=f"{copy}-1",
                DBClusterIdentifier=copy,
                Engine=source["Engine"],
                DBInstanceClass=klass,
            )
        else:
            rds.restore_db_instance_to_point_in_time(
                SourceDBInstanceIdentifier=self.b.cluster,
                TargetDBInstanceIdentifier=copy,
                RestoreTime=self.target,
            )
        ok = self.b.until(lambda: self._status(copy or "") == "available", timeout)
        marks = {"restore": self.b.clock.now()} if ok else {}
        return Outcome(bool(ok), f"{copy} is {self._status(copy or '')}, restored to {self.target}", marks)

    def _backup_copy(self, timeout: float) -> Outcome:
        return self._snapshot(self.copy or "", f"{self.copy}-after", timeout)

    def _rollback(self, timeout: float) -> Outcome:
        rds, gone = self.b.rds, []
        for name in self.snapshots:
            if self.aurora:
                rds.delete_db_cluster_snapshot(DBClusterSnapshotIdentifier=name)
            else:
                rds.delete_db_snapshot(DBSnapshotIdentifier=name)
            gone.append(name)
        if self.copy is not None and self._exists(self.copy):
            if self.aurora:
                for member in self._describe(self.copy)["DBClusterMembers"]:
                    rds.delete_db_instance(
                        DBInstanceIdentifier=member["DBInstanceIdentifier"], SkipFinalSnapshot=True
                    )
                rds.delete_db_cluster(DBClusterIdentifier=self.copy, SkipFinalSnapshot=True)
            else:
                rds.delete_db_instance(DBInstanceIdentifier=self.copy, SkipFinalSnapshot=True)
            gone.append(self.copy)
        self.b.stop_probes()
        return Outcome(True, f"deleted {', '.join(gone) or 'nothing'}; {self.b.cluster} untouched")

    def _exists(self, name: str) -> bool:
        try:
            self._describe(name)
        except self.b.rds.exceptions.ClientError as error:
            if "NotFound" in str(error):
                return False
            raise
        return True
