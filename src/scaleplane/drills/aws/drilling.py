"""The aws drill backend: each scenario on the AWS service users run it on, the fault injected by an AWS
FIS experiment (with a CloudWatch alarm as its stop condition) where FIS has an action for it, by a bare
API call otherwise (`fault="api"`, or where FIS has none). The AWS service does the recovery; the drill
watches it.

- db-primary-loss, kind aurora: FIS aws:rds:failover-db-cluster, or failover_db_cluster; a reader
  becomes the writer.
- db-primary-loss, kind multi-az: FIS aws:rds:reboot-db-instances with forceFailover, or
  reboot_db_instance(ForceFailover=True); the standby's zone serves.
- db-primary-loss, kind read-replica: FIS aws:rds:reboot-db-instances, or reboot_db_instance; then
  promote_read_replica (the runbook's act for a primary with a replica and no standby).
- restore-to-point-in-time, kind aurora or multi-az (any DB instance): FIS has no action;
  restore_db_cluster_to_point_in_time or restore_db_instance_to_point_in_time into a new copy.
- cache-primary-loss (ElastiCache): FIS aws:elasticache:replicationgroup-interrupt-az-power, or
  test_failover; a replica becomes the primary.

The parts live in `databases`, `replicas`, `restores` and `caches`; this module holds what they share (the
clients, the FIS experiment, the stop alarm). `cluster` names the Aurora DB cluster, the DB instance or
the ElastiCache replication group. RTO and RPO need a data-plane probe (`dsn`); without one (and on
moto_server, which has no database behind its API) the drill checks the control plane only and says so.
"""

from __future__ import annotations

import functools
from typing import Any

import boto3

from scaleplane.drills import actions
from scaleplane.drills.aws import caches, databases, replicas, restores
from scaleplane.drills.aws.experiments import Experiments
from scaleplane.drills.engine import backends
from scaleplane.drills.probing import clocks, loops

KINDS = ("aurora", "multi-az", "read-replica")
FAULTS = ("fis", "api")


class AwsBackend(actions.TableBackend):
    target = "aws"
    scenarios = ("db-primary-loss", "restore-to-point-in-time", "cache-primary-loss")

    def __init__(
        self,
        *,
        scenario: str,
        cluster: str = "",
        stop_alarm: str = "",
        role_arn: str = "",
        region: str = "us-east-1",
        endpoint_url: str | None = None,
        dsn: str | None = None,
        fault: str = "fis",
        kind: str = "aurora",
        clock: loops.Clock | None = None,
        **_: Any,
    ) -> None:
        if fault not in FAULTS:
            raise ValueError(f"fault must be fis or api, was {fault!r}")
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}, was {kind!r}")
        super().__init__(scenario=scenario, clock=clock or clocks.WallClock(), poll=0.5, dsn=dsn)
        self.cluster, self.fault_kind, self.kind = cluster, fault, kind
        self.region, self.endpoint_url, self.role_arn = region, endpoint_url, role_arn
        self.stop_alarm = stop_alarm
        self.stopped_by_alarm = False
        if scenario == "cache-primary-loss":
            self.table = caches.ReplicationGroupDrill(self).table()
        elif scenario == "restore-to-point-in-time" and kind != "read-replica":
            self.table = restores.PointInTimeRestore(self).table()
        elif scenario == "db-primary-loss":
            part = {
                "aurora": databases.AuroraFailover,
                "multi-az": databases.MultiAzFailover,
                "read-replica": replicas.ReplicaPromotion,
            }[kind]
            self.table = part(self).table()

    # The clients are made on first use: `plan`, `list` and the runbook test build backends they never call.
    def _client(self, service: str) -> Any:
        return boto3.session.Session(region_name=self.region).client(service, endpoint_url=self.endpoint_url)

    @functools.cached_property
    def rds(self) -> Any:
        return self._client("rds")

    @functools.cached_property
    def elasticache(self) -> Any:
        return self._client("elasticache")

    @functools.cached_property
    def experiments(self) -> Experiments:
        cloudwatch = self._client("cloudwatch")
        return Experiments(
            self._client("fis"), cloudwatch, stop_alarm=self.stop_alarm, role_arn=self.role_arn
        )

    def supports(self, scenario: str) -> bool:
        # restore-to-point-in-time of a read replica is not a drill: restore its source
        return scenario in self.scenarios and (scenario != self.scenario or bool(self.table))

    @property
    def template(self) -> str | None:
        return self.experiments.template

    @property
    def experiment(self) -> str | None:
        return self.experiments.experiment

    def until(self, check: Any, timeout: float, interval: float | None = None) -> Any:
        """As `TableBackend.until`, and a stop condition as FIS has it: once the fault is in, the stop
        alarm is read on every poll; in ALARM the step fails at once (rollback then stops the experiment).
        The drill does this itself because it must hold for a bare call too, and because moto_server's FIS
        never evaluates stop conditions."""
        self.stopped_by_alarm = False

        def watched() -> Any:
            if self.fault_at is not None and self.experiments.refuse_in_alarm() is not None:
                self.stopped_by_alarm = True
                return "stopped"
            return check()

        value = super().until(watched, timeout, interval)
        return None if self.stopped_by_alarm else value

    def stop_condition(self, outcome: backends.Outcome) -> backends.Outcome:
        """`outcome`, or the stop condition's failure when the alarm ended the step."""
        if not self.stopped_by_alarm:
            return outcome
        return backends.Outcome(False, f"stop condition {self.stop_alarm} went to ALARM: the drill stops")

    def perform(self, step_id: str, timeout: float) -> backends.Outcome:
        self.stopped_by_alarm = False
        return self.stop_condition(super().perform(step_id, timeout))

    def inject(self, call: str, api: Any, timeout: float) -> backends.Outcome:
        """The fault: refused while the stop alarm is in ALARM; then the bare `api()` call (`call` says
        what it was) or the FIS experiment, whichever the drill was asked for."""
        refused = self.experiments.refuse_in_alarm()
        if refused is not None:
            return refused
        if self.fault_kind == "api" or self.experiments.template is None:
            api()
            return self.fault(f"{call} called")
        experiment = self.experiments.start()
        outcome = self.fault(f"FIS experiment {experiment}")
        status = self.until(self.experiments.status_if_started, timeout)
        return backends.Outcome(
            status in ("running", "completed"), f"FIS experiment {experiment}: {status}", outcome.marks
        )

    def fis_template(self, build: Any) -> backends.Outcome | None:
        """Create the FIS template (only when the fault is FIS's)."""
        return self.experiments.create(build) if self.fault_kind == "fis" else None

    def clean_up(self, then: str) -> backends.Outcome:
        self.stop_probes()
        return backends.Outcome(True, f"{self.experiments.clean_up()}; {then}")
