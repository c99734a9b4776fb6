"""db-primary-loss on AWS for a single-AZ DB instance with a read replica: the primary is lost for a moment
and the replica is promoted (`promote_read_replica`), as the runbook's act for that set-up says. Unlike
Aurora and Multi-AZ, RDS does not do it by itself: promotion is the operator's act, so the drill does it.
"""

from __future__ import annotations

from scaleplane.drills.actions import Action, act
from scaleplane.drills.aws.databases import DELETE, DESCRIBE, EVENTS, START, TEMPLATE, Drill, Outcome


class ReplicaPromotion(Drill):
    """A single-AZ primary with a read replica: the fault is a reboot of the primary (RDS refuses to
    stop an instance that has replicas); the act is `promote_read_replica`, after which the replica no
    longer names a source. The old primary is left running and alone: the runbook says retire it."""

    replica: str | None = None

    def table(self) -> dict[str, Action]:
        b = self.b
        replica = DESCRIBE.replace("INSTANCE", "REPLICA")
        source = replica + " --query 'DBInstances[0].ReadReplicaSourceDBInstanceIdentifier'"
        return {
            "start-cluster": act(self._prepare, DESCRIBE, TEMPLATE),
            "kill-primary": act(
                self._inject, START, "aws rds reboot-db-instance --db-instance-identifier INSTANCE"
            ),
            "detect-primary-down": act(self._detect, EVENTS.format("db-instance")),
            "decide-failover-candidate": act(self._decide, DESCRIBE.replace("INSTANCE", "REPLICA")),
            "await-promotion": act(
                self._promote, "aws rds promote-read-replica --db-instance-identifier REPLICA", source
            ),
            "rejoin-old-primary": act(self._rejoin, DESCRIBE),
            "stop-cluster": act(lambda t: b.clean_up("both instances are yours"), DELETE),
            **self.b.probe_steps(),
        }

    def _prepare(self, timeout: float) -> Outcome:
        db = self._instance(self.b.cluster)
        replicas = db.get("ReadReplicaDBInstanceIdentifiers") or []
        if db["DBInstanceStatus"] != "available" or not replicas:
            return Outcome(
                False,
                f"instance {self.b.cluster} is {db['DBInstanceStatus']} with replicas {replicas}: "
                "a promotion needs an available primary with a read replica",
            )
        self.replica = replicas[0]
        refused = self._fis_reboot(db["DBInstanceArn"], force_failover=False)
        return refused or Outcome(True, f"primary {self.b.cluster}, read replica {self.replica}")

    def _inject(self, timeout: float) -> Outcome:
        name = self.b.cluster
        return self.b.inject(
            f"reboot_db_instance({name})",
            lambda: self.b.rds.reboot_db_instance(DBInstanceIdentifier=name),
            timeout,
        )

    def _detect(self, timeout: float) -> Outcome:
        status = self.b.until(
            lambda: (s := self._instance(self.b.cluster)["DBInstanceStatus"]) != "available" and s, timeout
        )
        marks = {"detected": self.b.clock.now()} if status else {}
        return Outcome(
            bool(status), f"the primary is {status}" if status else "the primary never stopped serving", marks
        )

    def _decide(self, timeout: float) -> Outcome:
        status = self._instance(self.replica or "")["DBInstanceStatus"]
        return Outcome(status == "available", f"promote {self.replica} (it is {status})")

    def _promote(self, timeout: float) -> Outcome:
        self.b.rds.promote_read_replica(DBInstanceIdentifier=self.replica)

        def alone() -> bool:
            db = self._instance(self.replica or "")
            return bool(
                db["DBInstanceStatus"] == "available" and not db.get("ReadReplicaSourceDBInstanceIdentifier")
            )

        if not self.b.until(alone, timeout):
            source = self._instance(self.replica or "").get("ReadReplicaSourceDBInstanceIdentifier")
            return Outcome(False, f"{self.replica} still names {source} as its source after {timeout:g} s")
        return Outcome(True, f"{self.replica} is a standalone primary", {"failover": self.b.clock.now()})

    def _rejoin(self, timeout: float) -> Outcome:
        ok = self.b.until(lambda: self._instance(self.b.cluster)["DBInstanceStatus"] == "available", timeout)
        marks = {"fail back": self.b.clock.now()} if ok else {}
        return Outcome(
            bool(ok), f"{self.b.cluster} is available again, no longer the primary: retire it", marks
        )
