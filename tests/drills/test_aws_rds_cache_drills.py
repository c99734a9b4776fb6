"""The rest of the aws backend on a real moto_server: a Multi-AZ forced failover, a read-replica promotion,
point-in-time restores of an instance and of an Aurora cluster, an ElastiCache failover; each with its
FIS template (or bare call), the stop alarm that aborts a drill half way, and the rollback that always
runs. What moto cannot show is asserted as such: its reboot moves nothing, its promote_read_replica
keeps the source, its ElastiCache has no test_failover, its FIS runs no action."""

from __future__ import annotations

import time
from typing import Any

import boto3
import pytest
import requests

from scaleplane.drills.aws import drilling
from scaleplane.drills.engine import running, scenarios
from tests.drills.conftest import FastClock, put_stop_alarm
from tests.drills.test_cli import drill

pytestmark = pytest.mark.servers
ALARM, ROLE = "app-write-errors", "arn:aws:iam::123456789012:role/fis-drills"


class AlarmAt(FastClock):
    """Virtual time that sets the stop alarm to ALARM once it passes `at`: an incident mid-drill."""

    def __init__(self, cloudwatch: Any, at: float) -> None:
        super().__init__(0.0)
        self.cloudwatch, self.at = cloudwatch, at

    def sleep(self, seconds: float) -> None:
        super().sleep(seconds)
        if self.t >= self.at:
            self.cloudwatch.set_alarm_state(AlarmName=ALARM, StateValue="ALARM", StateReason="write errors")


@pytest.fixture
def aws_api(moto_url: str) -> dict[str, Any]:
    clients = {name: boto3.client(name, region_name="us-east-1", endpoint_url=moto_url) for name in (
        "rds", "elasticache", "cloudwatch", "fis")}  # fmt: skip
    put_stop_alarm(clients["cloudwatch"], ALARM)
    rds = clients["rds"]
    rds.create_db_instance(
        DBInstanceIdentifier="orders",
        Engine="postgres",
        DBInstanceClass="db.m6g.large",
        MultiAZ=True,
        AllocatedStorage=20,
        MasterUsername="app",
        MasterUserPassword="drill-password-1",
    )
    rds.create_db_instance_read_replica(
        DBInstanceIdentifier="orders-replica", SourceDBInstanceIdentifier="orders"
    )
    return {"url": moto_url, **clients}


def backend(api: dict[str, Any], scenario: str, cluster: str, **options: Any) -> drilling.AwsBackend:
    options.setdefault("clock", FastClock())
    return drilling.AwsBackend(
        scenario=scenario,
        cluster=cluster,
        stop_alarm=ALARM,
        role_arn=ROLE,
        endpoint_url=api["url"],
        **options,
    )


def observed(result: running.DrillResult) -> dict[str, tuple[bool, str]]:
    return {r.step.id: (r.ok, r.observed) for r in result.results if not r.skipped}


def templates(api: dict[str, Any]) -> list[Any]:
    return list(api["fis"].list_experiment_templates()["experimentTemplates"])


def test_multi_az_forced_failover_as_fis_reboot_with_force_failover(aws_api: dict[str, Any]) -> None:
    b = backend(aws_api, "db-primary-loss", "orders", kind="multi-az")
    assert b.perform("start-cluster", 10).ok
    template = aws_api["fis"].get_experiment_template(id=b.template)["experimentTemplate"]
    action = template["actions"]["reboot"]
    assert (action["actionId"], action["parameters"]) == (
        "aws:rds:reboot-db-instances",
        {"forceFailover": "true"},
    )
    assert template["targets"]["instance"]["resourceType"] == "aws:rds:db"
    assert template["targets"]["instance"]["resourceArns"][0].endswith(":db:orders")
    assert template["stopConditions"][0]["source"] == "aws:cloudwatch:alarm"
    assert b.perform("stop-cluster", 10).ok and templates(aws_api) == []


def test_multi_az_bare_reboot_reaches_rds_but_moto_moves_nothing(aws_api: dict[str, Any]) -> None:
    b = backend(aws_api, "db-primary-loss", "orders", kind="multi-az", fault="api")
    result = running.run(scenarios.DB_PRIMARY_LOSS, b, b.clock, execute=True)
    seen = observed(result)
    assert seen["kill-primary"] == (True, "reboot_db_instance(orders, ForceFailover=True) called")
    # real RDS swaps AvailabilityZone and SecondaryAvailabilityZone; moto keeps the instance as it was
    assert seen["detect-primary-down"] == (False, "the instance neither rebooted nor moved")
    assert seen["stop-cluster"][0] and result.verdict == "PolicyBreached"


def test_the_stop_alarm_firing_mid_drill_aborts_it_and_rollback_stops_the_experiment(
    aws_api: dict[str, Any],
) -> None:
    # moto moves an experiment one state on every third read (by default: every read), so it is still
    # running when the alarm fires, as a real one would be
    state = f"{aws_api['url']}/moto-api/state-manager"
    transition = {"model_name": "fis::experiment", "transition": {"progression": "manual", "times": 3}}
    requests.post(f"{state}/set-transition", json=transition, timeout=5)
    b = backend(
        aws_api, "db-primary-loss", "orders", kind="multi-az", clock=AlarmAt(aws_api["cloudwatch"], 8.0)
    )
    try:
        result = running.run(scenarios.DB_PRIMARY_LOSS, b, b.clock, execute=True)
    finally:
        requests.post(f"{state}/unset-transition", json={"model_name": "fis::experiment"}, timeout=5)
    seen = observed(result)
    failed = [step for step, (ok, _) in seen.items() if not ok]
    assert failed == ["detect-primary-down"]
    assert seen["detect-primary-down"][1] == f"stop condition {ALARM} went to ALARM: the drill stops"
    experiment = aws_api["fis"].get_experiment(id=b.experiment)["experiment"]
    assert experiment["state"]["status"] in ("stopping", "stopped")
    assert seen["stop-cluster"] == (True, f"experiment template {b.template} deleted; the instance is yours")
    assert templates(aws_api) == []


def test_read_replica_promotion_is_asked_for_and_moto_keeps_the_source(aws_api: dict[str, Any]) -> None:
    b = backend(aws_api, "db-primary-loss", "orders", kind="read-replica", fault="api")
    assert b.perform("start-cluster", 10).observed == "primary orders, read replica orders-replica"
    assert b.perform("decide-failover-candidate", 10).ok
    promoted = b.perform("await-promotion", 5)
    # real RDS drops ReadReplicaSourceDBInstanceIdentifier once promoted; moto only flips a flag
    assert promoted == type(promoted)(False, "orders-replica still names orders as its source after 5 s")
    assert b.perform("stop-cluster", 10).ok


def test_point_in_time_restore_of_an_instance_lands_in_a_copy_that_rollback_deletes(
    aws_api: dict[str, Any],
) -> None:
    rds = aws_api["rds"]
    b = backend(
        aws_api, "restore-to-point-in-time", "orders", kind="multi-az", clock=FastClock(time.time() - 30)
    )
    result = running.run(scenarios.RESTORE_TO_POINT_IN_TIME, b, b.clock, execute=True)
    seen = observed(result)
    assert all(ok for ok, _ in seen.values()), seen
    copy = f"orders-drill-{int(result.fault_at or 0)}"
    assert seen["restore-before-mistake"][1].startswith(f"{copy} is available, restored to ")
    assert seen["take-backup-after-restore"] == (True, f"snapshot {copy}-after of {copy} is available")
    assert seen["stop-archiving-database"][1] == (
        f"deleted orders-drill-before, {copy}-after, {copy}; orders untouched"
    )
    names = {db["DBInstanceIdentifier"] for db in rds.describe_db_instances()["DBInstances"]}
    assert (
        names == {"orders", "orders-replica"}
        and rds.describe_db_snapshots(SnapshotType="manual")["DBSnapshots"] == []
    )
    assert list(result.marks) == ["fault", "restore"] and result.verdict == "PolicyBreached"


def test_point_in_time_restore_of_aurora_adds_a_writer_to_the_restored_cluster(
    aws_api: dict[str, Any],
) -> None:
    rds = aws_api["rds"]
    rds.create_db_cluster(
        DBClusterIdentifier="ledger",
        Engine="aurora-postgresql",
        MasterUsername="app",
        MasterUserPassword="pw-123456",
    )
    rds.create_db_instance(
        DBInstanceIdentifier="ledger-1", DBClusterIdentifier="ledger", Engine="aurora-postgresql",
        DBInstanceClass="db.r6g.large",
    )  # fmt: skip
    b = backend(aws_api, "restore-to-point-in-time", "ledger", clock=FastClock(time.time() - 30))
    for step in (
        "start-archiving-database",
        "take-full-backup",
        "drop-table-by-mistake",
        "decide-restore-target",
    ):
        assert b.perform(step, 30).ok, step
    assert b.perform("restore-before-mistake", 30).ok
    copy = rds.describe_db_clusters(DBClusterIdentifier=b.table and f"ledger-drill-{int(b.fault_at or 0)}")
    members = copy["DBClusters"][0]["DBClusterMembers"]
    assert [m["DBInstanceIdentifier"] for m in members] == [f"ledger-drill-{int(b.fault_at or 0)}-1"]
    assert b.perform("stop-archiving-database", 30).ok
    assert [c["DBClusterIdentifier"] for c in rds.describe_db_clusters()["DBClusters"]] == ["ledger"]


def test_a_mistake_is_not_made_while_the_stop_alarm_is_in_alarm(aws_api: dict[str, Any]) -> None:
    aws_api["cloudwatch"].set_alarm_state(AlarmName=ALARM, StateValue="ALARM", StateReason="an incident")
    b = backend(aws_api, "restore-to-point-in-time", "orders", kind="multi-az", clock=FastClock(time.time()))
    result = running.run(scenarios.RESTORE_TO_POINT_IN_TIME, b, b.clock, execute=True)
    seen = observed(result)
    assert seen["drop-table-by-mistake"] == (False, f"stop condition {ALARM} is in ALARM: no fault injected")
    assert seen["stop-archiving-database"] == (True, "deleted orders-drill-before; orders untouched")


@pytest.fixture
def cache(aws_api: dict[str, Any]) -> dict[str, Any]:
    aws_api["elasticache"].create_replication_group(
        ReplicationGroupId="sessions", ReplicationGroupDescription="sessions", Engine="redis",
        CacheNodeType="cache.t4g.small", NumNodeGroups=1, ReplicasPerNodeGroup=1,
        AutomaticFailoverEnabled=True, MultiAZEnabled=True,
    )  # fmt: skip
    return aws_api


def test_elasticache_fis_template_cuts_the_primary_zone_by_tag(cache: dict[str, Any]) -> None:
    b = backend(cache, "cache-primary-loss", "sessions")
    assert (
        b.perform("start-cache", 10).observed == "primary sessions-001 in us-east-1a, replicas sessions-002"
    )
    template = cache["fis"].get_experiment_template(id=b.template)["experimentTemplate"]
    target = template["targets"]["group"]
    assert template["actions"]["power"]["actionId"] == "aws:elasticache:replicationgroup-interrupt-az-power"
    assert (target["resourceTags"], target["parameters"]) == (
        {"scaleplane-drill": "sessions"},
        {"availabilityZoneIdentifier": "us-east-1a"},
    )
    arn = cache["elasticache"].describe_replication_groups(ReplicationGroupId="sessions")[
        "ReplicationGroups"
    ][0]["ARN"]
    tags = cache["elasticache"].list_tags_for_resource(ResourceName=arn)["TagList"]
    assert {"Key": "scaleplane-drill", "Value": "sessions"} in tags
    assert b.perform("stop-cache", 10).ok
    b = backend(cache, "cache-primary-loss", "sessions")
    result = running.run(scenarios.CACHE_PRIMARY_LOSS, b, b.clock, execute=True)
    assert observed(result)["detect-cache-primary-down"] == (
        False,
        "the primary did not change",
    )  # moto's FIS
    assert (
        templates(cache) == []
        and cache["elasticache"].list_tags_for_resource(ResourceName=arn)["TagList"] == []
    )


def test_elasticache_test_failover_is_not_in_moto_and_the_drill_says_so(cache: dict[str, Any]) -> None:
    b = backend(cache, "cache-primary-loss", "sessions", fault="api")
    result = running.run(scenarios.CACHE_PRIMARY_LOSS, b, b.clock, execute=True)
    ok, seen = observed(result)["kill-cache-primary"]
    # moto_server answers TestFailover with a bare 500 (moto: "has not been implemented"): the drill stops
    assert not ok and seen.startswith("ResponseParserError") and "500 Internal Server Error" in seen, seen
    assert result.fault_at is None and observed(result)["stop-cache"][0]


def test_the_cli_plans_and_refuses_by_kind(aws_api: dict[str, Any]) -> None:
    code, out, _ = drill("plan", "db-primary-loss", "--target", "aws", "--kind", "read-replica")
    assert code == 0 and "aws rds promote-read-replica --db-instance-identifier REPLICA" in out
    code, _, err = drill("plan", "db-primary-loss", "--target", "aws", "--kind", "standby")
    assert code == 2 and err.startswith(
        "error: --kind: must be aurora, multi-az or read-replica, was 'standby'"
    )
    code, _, err = drill("plan", "restore-to-point-in-time", "--target", "aws", "--kind", "read-replica")
    assert code == 2 and "has no scenario 'restore-to-point-in-time'" in err
    code, _, err = drill("run", "db-primary-loss", "--target", "aws", "--fault", "delete", "--cluster", "x")
    assert code == 2 and err.startswith("error: --fault: must be one of fis, api, was 'delete'")
