"""db-primary-loss on AWS, the ways RDS fails over by itself (see `drilling`): an Aurora cluster fails
over to a reader; a Multi-AZ DB instance reboots through a failover to its standby. (A DB instance with
a read replica, promoted by the runbook's act, is `replicas`.)

Each class builds the step table of the scenario from the shared backend (`drilling.AwsBackend`); the writer,
the zones and the replica are read in prepare, and every later step compares against them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scaleplane.drills.actions import Action, act
from scaleplane.drills.engine import backends

if TYPE_CHECKING:
    from scaleplane.drills.aws.drilling import AwsBackend

Outcome = backends.Outcome
DESCRIBE = "aws rds describe-db-instances --db-instance-identifier INSTANCE"
EVENTS = "aws rds describe-events --source-type {} --duration 60"
TEMPLATE = "aws fis create-experiment-template --cli-input-json file://template.json"
START = "aws fis start-experiment --experiment-template-id TEMPLATE"
DELETE = "aws fis delete-experiment-template --id TEMPLATE"


class Drill:
    def table(self) -> dict[str, Action]:
        raise NotImplementedError

    def __init__(self, backend: AwsBackend) -> None:
        self.b = backend

    def _instance(self, name: str) -> dict[str, Any]:
        found: dict[str, Any] = self.b.rds.describe_db_instances(DBInstanceIdentifier=name)["DBInstances"][0]
        return found

    def _fis_reboot(self, arn: str, force_failover: bool) -> Outcome | None:
        return self.b.fis_template(
            lambda alarm: self.b.experiments.body(
                "db-primary-loss",
                f"scaleplane drill db-primary-loss on {self.b.cluster}",
                {"instance": {"resourceType": "aws:rds:db", "resourceArns": [arn], "selectionMode": "ALL"}},
                {
                    "reboot": {
                        "actionId": "aws:rds:reboot-db-instances",
                        "parameters": {"forceFailover": "true" if force_failover else "false"},
                        "targets": {"DBInstances": "instance"},
                    }
                },
                alarm,
            )
        )


class AuroraFailover(Drill):
    writer: str | None = None

    def table(self) -> dict[str, Action]:
        b = self.b
        cluster = "aws rds describe-db-clusters --db-cluster-identifier CLUSTER"
        return {
            "start-cluster": act(self._prepare, cluster, TEMPLATE),
            "kill-primary": act(
                self._inject, START, "aws rds failover-db-cluster --db-cluster-identifier CLUSTER"
            ),
            "detect-primary-down": act(self._detect, EVENTS.format("db-cluster")),
            "decide-failover-candidate": act(
                self._decide, f"{cluster} --query 'DBClusters[0].DBClusterMembers'"
            ),
            "await-promotion": act(
                self._await_promotion, f"{cluster} --query 'DBClusters[0].DBClusterMembers[?IsClusterWriter]'"
            ),
            "rejoin-old-primary": act(self._rejoin, DESCRIBE.replace("INSTANCE", "OLD_WRITER")),
            "stop-cluster": act(lambda t: b.clean_up("the cluster is yours"), DELETE),
            **self.b.probe_steps(),
        }

    def _cluster(self) -> dict[str, Any]:
        found: dict[str, Any] = self.b.rds.describe_db_clusters(DBClusterIdentifier=self.b.cluster)[
            "DBClusters"
        ][0]
        return found

    def _current_writer(self) -> str | None:
        members = self._cluster()["DBClusterMembers"]
        return next((m["DBInstanceIdentifier"] for m in members if m["IsClusterWriter"]), None)

    def _prepare(self, timeout: float) -> Outcome:
        cluster = self._cluster()
        readers = [m["DBInstanceIdentifier"] for m in cluster["DBClusterMembers"] if not m["IsClusterWriter"]]
        self.writer = self._current_writer()
        if cluster["Status"] != "available" or self.writer is None or not readers:
            return Outcome(
                False,
                f"cluster {self.b.cluster} is {cluster['Status']}, writer {self.writer}, "
                f"readers {readers}: a failover needs a writer and a reader",
            )
        arn = cluster["DBClusterArn"]
        refused = self.b.fis_template(
            lambda alarm: self.b.experiments.body(
                "db-primary-loss",
                f"scaleplane drill db-primary-loss on {self.b.cluster}",
                {
                    "cluster": {
                        "resourceType": "aws:rds:cluster",
                        "resourceArns": [arn],
                        "selectionMode": "ALL",
                    }
                },
                {
                    "failover": {
                        "actionId": "aws:rds:failover-db-cluster",
                        "targets": {"Clusters": "cluster"},
                        "description": "Aurora fails over to a reader",
                    }
                },
                alarm,
            )
        )
        if refused:
            return refused
        how = (
            f"FIS template {self.b.template} stops on alarm {self.b.stop_alarm}"
            if self.b.template
            else "bare API"
        )
        return Outcome(True, f"writer {self.writer}, readers {', '.join(readers)}; {how}")

    def _inject(self, timeout: float) -> Outcome:
        call = f"failover_db_cluster({self.b.cluster})"
        return self.b.inject(
            call, lambda: self.b.rds.failover_db_cluster(DBClusterIdentifier=self.b.cluster), timeout
        )

    def _detect(self, timeout: float) -> Outcome:
        ok = self.b.until(
            lambda: self._cluster()["Status"] != "available" or self._current_writer() != self.writer, timeout
        )
        seen = "the cluster is failing over" if ok else "the writer did not change"
        return Outcome(bool(ok), seen, {"detected": self.b.clock.now()} if ok else {})

    def _decide(self, timeout: float) -> Outcome:
        members = self._cluster()["DBClusterMembers"]
        readers = [m["DBInstanceIdentifier"] for m in members if m["DBInstanceIdentifier"] != self.writer]
        return Outcome(bool(readers), f"Aurora promotes one of {', '.join(readers)} (by failover tier)")

    def _await_promotion(self, timeout: float) -> Outcome:
        new = self.b.until(lambda: (w := self._current_writer()) != self.writer and w, timeout)
        if not new:
            return Outcome(False, f"the writer is still {self.writer} after {timeout:g} s")
        return Outcome(True, f"{new} is the writer", {"failover": self.b.clock.now()})

    def _rejoin(self, timeout: float) -> Outcome:
        def reader_again() -> bool:
            member = next(
                m for m in self._cluster()["DBClusterMembers"] if m["DBInstanceIdentifier"] == self.writer
            )
            available = self._instance(self.writer or "")["DBInstanceStatus"] == "available"
            return not member["IsClusterWriter"] and available

        ok = self.b.until(reader_again, timeout)
        marks = {"fail back": self.b.clock.now()} if ok else {}
        return Outcome(bool(ok), f"{self.writer} is an available reader", marks)


class MultiAzFailover(Drill):
    """RDS moves the endpoint to the standby in the other zone: the instance's `AvailabilityZone` and
    `SecondaryAvailabilityZone` swap. That swap is what the drill watches."""

    zone: str | None = None
    standby_zone: str | None = None

    def table(self) -> dict[str, Action]:
        b = self.b
        zones = DESCRIBE + " --query 'DBInstances[0].[AvailabilityZone,SecondaryAvailabilityZone]'"
        return {
            "start-cluster": act(self._prepare, DESCRIBE, TEMPLATE),
            "kill-primary": act(
                self._inject,
                START,
                "aws rds reboot-db-instance --db-instance-identifier INSTANCE --force-failover",
            ),
            "detect-primary-down": act(self._detect, EVENTS.format("db-instance")),
            "decide-failover-candidate": act(self._decide, zones),
            "await-promotion": act(self._await_promotion, zones),
            "rejoin-old-primary": act(self._rejoin, zones),
            "stop-cluster": act(lambda t: b.clean_up("the instance is yours"), DELETE),
            **self.b.probe_steps(),
        }

    def _prepare(self, timeout: float) -> Outcome:
        db = self._instance(self.b.cluster)
        self.zone, self.standby_zone = db.get("AvailabilityZone"), db.get("SecondaryAvailabilityZone")
        if db["DBInstanceStatus"] != "available" or not db.get("MultiAZ"):
            return Outcome(
                False,
                f"instance {self.b.cluster} is {db['DBInstanceStatus']}, MultiAZ {db.get('MultiAZ')}: "
                "a forced failover needs an available Multi-AZ instance",
            )
        refused = self._fis_reboot(db["DBInstanceArn"], force_failover=True)
        if refused:
            return refused
        return Outcome(True, f"primary in {self.zone}, standby in {self.standby_zone}")

    def _inject(self, timeout: float) -> Outcome:
        name = self.b.cluster
        call = f"reboot_db_instance({name}, ForceFailover=True)"
        return self.b.inject(
            call,
            lambda: self.b.rds.reboot_db_instance(DBInstanceIdentifier=name, ForceFailover=True),
            timeout,
        )

    def _detect(self, timeout: float) -> Outcome:
        def seen() -> str | None:
            db = self._instance(self.b.cluster)
            moved = db.get("AvailabilityZone") != self.zone
            return str(db["DBInstanceStatus"]) if db["DBInstanceStatus"] != "available" or moved else None

        status = self.b.until(seen, timeout)
        marks = {"detected": self.b.clock.now()} if status else {}
        return Outcome(
            bool(status),
            f"the instance is {status}" if status else "the instance neither rebooted nor moved",
            marks,
        )

    def _decide(self, timeout: float) -> Outcome:
        return Outcome(self.standby_zone is not None, f"RDS fails over to the standby in {self.standby_zone}")

    def _await_promotion(self, timeout: float) -> Outcome:
        def moved() -> bool:
            db = self._instance(self.b.cluster)
            return bool(
                db["DBInstanceStatus"] == "available" and db.get("AvailabilityZone") == self.standby_zone
            )

        if not self.b.until(moved, timeout):
            return Outcome(False, f"the primary is not in {self.standby_zone} after {timeout:g} s")
        return Outcome(True, f"the primary serves from {self.standby_zone}", {"failover": self.b.clock.now()})

    def _rejoin(self, timeout: float) -> Outcome:
        ok = self.b.until(
            lambda: self._instance(self.b.cluster).get("SecondaryAvailabilityZone") == self.zone, timeout
        )
        marks = {"fail back": self.b.clock.now()} if ok else {}
        return Outcome(
            bool(ok), f"the standby is in {self.zone} again" if ok else "no standby in the old zone", marks
        )
