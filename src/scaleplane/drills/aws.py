"""The aws drill backend: db-primary-loss on an Aurora cluster, the fault injected by an AWS FIS experiment
(action `aws:rds:failover-db-cluster`) with a CloudWatch alarm as its stop condition, or by a bare
`failover_db_cluster` call (`fault="api"`). Aurora does the failover; the drill watches the writer change.

The cluster and the stop alarm are the user's (the drill never creates or deletes them); the experiment
template is the drill's, created in prepare and deleted in rollback. Before the fault the drill reads the
stop alarm itself and refuses to inject while it is in ALARM (FIS would stop the experiment, and a drill
must not start into an incident).

RTO and RPO need a data-plane probe: pass `dsn` (the cluster endpoint, multi-host or not) and the probes
of `probing` run against it. Without one (and on moto_server, which has no database behind its API) the
drill checks the control plane only and says RTO and RPO were not measured.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3

from scaleplane.drills import backends, clocks, probes, probing

SCENARIOS = ("db-primary-loss",)
COMMANDS = {
    "start-cluster": [
        "aws rds describe-db-clusters --db-cluster-identifier CLUSTER",
        "aws fis create-experiment-template --cli-input-json file://template.json",
    ],
    "kill-primary": ["aws fis start-experiment --experiment-template-id TEMPLATE"],
    "detect-primary-down": ["aws rds describe-events --source-type db-cluster --duration 60"],
    "decide-failover-candidate": [
        "aws rds describe-db-clusters --db-cluster-identifier CLUSTER "
        "--query 'DBClusters[0].DBClusterMembers'"
    ],
    "await-promotion": [
        "aws rds describe-db-clusters --db-cluster-identifier CLUSTER "
        "--query 'DBClusters[0].DBClusterMembers[?IsClusterWriter]'"
    ],
    "rejoin-old-primary": ["aws rds describe-db-instances --db-instance-identifier OLD_WRITER"],
    "stop-cluster": ["aws fis delete-experiment-template --id TEMPLATE"],
}


class AwsBackend:
    target = "aws"

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
        clock: probing.Clock | None = None,
        **_: Any,
    ) -> None:
        if fault not in ("fis", "api"):
            raise ValueError(f"fault must be fis or api, was {fault!r}")
        self.scenario, self.cluster, self.stop_alarm, self.role_arn = scenario, cluster, stop_alarm, role_arn
        self.fault, self.dsn = fault, dsn
        self.clock = clock or clocks.WallClock()
        session = boto3.session.Session(region_name=region)
        self.rds: Any = session.client("rds", endpoint_url=endpoint_url)
        self.fis: Any = session.client("fis", endpoint_url=endpoint_url)
        self.cloudwatch: Any = session.client("cloudwatch", endpoint_url=endpoint_url)
        self.template: str | None = None
        self.writer: str | None = None
        self.experiment: str | None = None
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
        return (
            action(timeout) if action else backends.Outcome(False, f"the aws backend has no step {step_id!r}")
        )

    def probe_log(self) -> probes.ProbeLog:
        return self.probe.log() if self.probe is not None else probes.ProbeLog()

    # --- helpers -----------------------------------------------------------------------------------------
    def _members(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.rds.describe_db_clusters(DBClusterIdentifier=self.cluster)[
            "DBClusters"
        ][0]["DBClusterMembers"]
        return found

    def _current_writer(self) -> str | None:
        return next((m["DBInstanceIdentifier"] for m in self._members() if m["IsClusterWriter"]), None)

    def _until(self, check: Callable[[], Any], timeout: float, interval: float = 0.5) -> Any:
        deadline = self.clock.now() + timeout
        while True:
            value = check()
            if value or self.clock.now() > deadline:
                return value
            self.clock.sleep(interval)

    def template_body(self, cluster_arn: str, alarm_arn: str) -> dict[str, Any]:
        """The FIS experiment template: fail the cluster over, stop if the alarm fires."""
        return {
            "description": f"scaleplane drill db-primary-loss on {self.cluster}",
            "roleArn": self.role_arn,
            "targets": {
                "cluster": {
                    "resourceType": "aws:rds:cluster",
                    "resourceArns": [cluster_arn],
                    "selectionMode": "ALL",
                }
            },
            "actions": {
                "failover": {
                    "actionId": "aws:rds:failover-db-cluster",
                    "targets": {"Clusters": "cluster"},
                    "description": "Aurora fails over to a reader",
                }
            },
            "stopConditions": [{"source": "aws:cloudwatch:alarm", "value": alarm_arn}],
            "tags": {"scaleplane-drill": "db-primary-loss"},
        }

    # --- steps -------------------------------------------------------------------------------------------
    def _prepare(self, timeout: float) -> backends.Outcome:
        cluster = self.rds.describe_db_clusters(DBClusterIdentifier=self.cluster)["DBClusters"][0]
        readers = [m["DBInstanceIdentifier"] for m in cluster["DBClusterMembers"] if not m["IsClusterWriter"]]
        self.writer = self._current_writer()
        if cluster["Status"] != "available" or self.writer is None or not readers:
            return backends.Outcome(
                False,
                f"cluster {self.cluster} is {cluster['Status']}, writer {self.writer}, "
                f"readers {readers}: a failover needs a writer and a reader",
            )
        alarms = self.cloudwatch.describe_alarms(AlarmNames=[self.stop_alarm])["MetricAlarms"]
        if not alarms:
            return backends.Outcome(False, f"stop-condition alarm {self.stop_alarm!r} does not exist")
        body = self.template_body(cluster["DBClusterArn"], alarms[0]["AlarmArn"])
        self.template = self.fis.create_experiment_template(**body)["experimentTemplate"]["id"]
        return backends.Outcome(
            True,
            f"writer {self.writer}, readers {', '.join(readers)}; FIS template "
            f"{self.template} stops on alarm {self.stop_alarm}",
        )

    def _start_probes(self, timeout: float) -> backends.Outcome:
        if self.dsn is None:
            return backends.Outcome(
                True, "no probe: no database endpoint given (dsn); RTO and RPO not measured"
            )
        read = self.dsn.replace("target_session_attrs=read-write", "target_session_attrs=prefer-standby")
        self.probe = probing.Probe(probing.SqlStore(self.dsn, read), self.clock)
        self.probe.create_table()
        self.probe.start()
        probe = self.probe
        ok = self._until(lambda: probe.count("write", ok=True, since=0) >= 20, timeout)
        return backends.Outcome(bool(ok), f"{probe.count('write', ok=True, since=0)} writes acknowledged")

    def _inject(self, timeout: float) -> backends.Outcome:
        state = self.cloudwatch.describe_alarms(AlarmNames=[self.stop_alarm])["MetricAlarms"][0]["StateValue"]
        if state == "ALARM":
            return backends.Outcome(False, f"stop condition {self.stop_alarm} is in ALARM: no fault injected")
        if self.fault == "api":
            self.rds.failover_db_cluster(DBClusterIdentifier=self.cluster)
            self.fault_at = self.clock.now()
            return backends.Outcome(
                True, f"failover_db_cluster({self.cluster}) called", {"fault": self.fault_at}
            )
        self.experiment = self.fis.start_experiment(experimentTemplateId=self.template)["experiment"]["id"]
        self.fault_at = self.clock.now()
        status = self._until(self._experiment_status_if_started, timeout)
        return backends.Outcome(
            status in ("running", "completed"),
            f"FIS experiment {self.experiment}: {status}",
            {"fault": self.fault_at},
        )

    def _experiment_status_if_started(self) -> str | None:
        status = str(self.fis.get_experiment(id=self.experiment)["experiment"]["state"]["status"])
        return status if status not in ("pending", "initiating") else None

    def _detect(self, timeout: float) -> backends.Outcome:
        def seen() -> bool:
            cluster = self.rds.describe_db_clusters(DBClusterIdentifier=self.cluster)["DBClusters"][0]
            return bool(cluster["Status"] != "available" or self._current_writer() != self.writer)

        ok = self._until(seen, timeout)
        return backends.Outcome(
            bool(ok),
            "the cluster is failing over" if ok else "the writer did not change",
            {"detected": self.clock.now()} if ok else {},
        )

    def _decide(self, timeout: float) -> backends.Outcome:
        readers = [
            m["DBInstanceIdentifier"] for m in self._members() if m["DBInstanceIdentifier"] != self.writer
        ]
        return backends.Outcome(
            bool(readers), f"Aurora promotes one of {', '.join(readers)} (by failover tier)"
        )

    def _await_promotion(self, timeout: float) -> backends.Outcome:
        new = self._until(lambda: (w := self._current_writer()) != self.writer and w, timeout)
        if not new:
            return backends.Outcome(False, f"the writer is still {self.writer} after {timeout:g} s")
        return backends.Outcome(True, f"{new} is the writer", {"failover": self.clock.now()})

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
        found = self.probe.check()
        return backends.Outcome(True, f"{len(found)} numbers found on the new writer")

    def _rejoin(self, timeout: float) -> backends.Outcome:
        def reader_again() -> bool:
            member = next(m for m in self._members() if m["DBInstanceIdentifier"] == self.writer)
            status = self.rds.describe_db_instances(DBInstanceIdentifier=self.writer)["DBInstances"][0]
            return not member["IsClusterWriter"] and status["DBInstanceStatus"] == "available"

        ok = self._until(reader_again, timeout)
        return backends.Outcome(
            bool(ok), f"{self.writer} is an available reader", {"fail back": self.clock.now()} if ok else {}
        )

    def _rollback(self, timeout: float) -> backends.Outcome:
        if self.probe is not None:
            self.probe.stop(timeout=5)
        if self.experiment is not None:
            status = self.fis.get_experiment(id=self.experiment)["experiment"]["state"]["status"]
            if status not in ("completed", "stopped", "failed"):
                self.fis.stop_experiment(id=self.experiment)
        if self.template is not None:
            self.fis.delete_experiment_template(id=self.template)
        return backends.Outcome(True, f"experiment template {self.template} deleted; the cluster is yours")
