"""The aws backend on a real moto_server: the API sequence of db-primary-loss on an Aurora cluster, the
FIS experiment template with its CloudWatch-alarm stop condition, the stop condition honoured, and what
moto cannot show (its FIS runs no action; it has no database, so RTO and RPO stay unmeasured)."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from scaleplane.drills.aws import drilling
from scaleplane.drills.engine import running, scenarios
from tests.drills.conftest import FastClock, put_stop_alarm
from tests.drills.test_cli import drill

pytestmark = pytest.mark.servers
CLUSTER, ALARM, ROLE = "orders", "orders-write-errors", "arn:aws:iam::123456789012:role/fis-drills"


@pytest.fixture
def aurora(moto_url: str) -> dict[str, Any]:
    rds = boto3.client("rds", region_name="us-east-1", endpoint_url=moto_url)
    rds.create_db_cluster(
        DBClusterIdentifier=CLUSTER,
        Engine="aurora-postgresql",
        MasterUsername="app",
        MasterUserPassword="drill-password-1",
    )
    for name in ("orders-1", "orders-2"):
        rds.create_db_instance(
            DBInstanceIdentifier=name,
            DBClusterIdentifier=CLUSTER,
            Engine="aurora-postgresql",
            DBInstanceClass="db.r6g.large",
        )
    cloudwatch = boto3.client("cloudwatch", region_name="us-east-1", endpoint_url=moto_url)
    put_stop_alarm(cloudwatch, ALARM)
    fis = boto3.client("fis", region_name="us-east-1", endpoint_url=moto_url)
    return {"url": moto_url, "rds": rds, "cloudwatch": cloudwatch, "fis": fis}


def backend(aurora: dict[str, Any], fault: str) -> drilling.AwsBackend:
    return drilling.AwsBackend(
        scenario="db-primary-loss",
        cluster=CLUSTER,
        stop_alarm=ALARM,
        role_arn=ROLE,
        endpoint_url=aurora["url"],
        fault=fault,
        clock=FastClock(),
    )


def writer(aurora: dict[str, Any]) -> str:
    members = aurora["rds"].describe_db_clusters(DBClusterIdentifier=CLUSTER)["DBClusters"][0][
        "DBClusterMembers"
    ]
    return str(next(m["DBInstanceIdentifier"] for m in members if m["IsClusterWriter"]))


def test_the_fis_template_fails_the_cluster_over_and_stops_on_the_alarm(aurora: dict[str, Any]) -> None:
    b = backend(aurora, "fis")
    assert b.perform("start-cluster", 10).ok
    template = aurora["fis"].get_experiment_template(id=b.template)["experimentTemplate"]
    assert template["actions"]["failover"]["actionId"] == "aws:rds:failover-db-cluster"
    assert template["targets"]["cluster"]["resourceArns"][0].endswith(f":cluster:{CLUSTER}")
    alarm_arn = aurora["cloudwatch"].describe_alarms(AlarmNames=[ALARM])["MetricAlarms"][0]["AlarmArn"]
    assert template["stopConditions"] == [{"source": "aws:cloudwatch:alarm", "value": alarm_arn}]
    assert b.perform("stop-cluster", 10).ok
    assert aurora["fis"].list_experiment_templates()["experimentTemplates"] == []


def test_a_bare_failover_call_moves_the_writer_and_rto_is_said_to_be_unmeasured(
    aurora: dict[str, Any],
) -> None:
    before = writer(aurora)
    b = backend(aurora, "api")
    result = running.run(scenarios.DB_PRIMARY_LOSS, b, b.clock, execute=True)
    observed = {r.step.id: r.observed for r in result.results}
    assert all(r.ok for r in result.results), observed
    assert writer(aurora) != before and observed["await-promotion"] == f"{writer(aurora)} is the writer"
    assert observed["rejoin-old-primary"] == f"{before} is an available reader"
    # moto has no database behind its API: the drill says so instead of inventing an RTO
    assert result.verdict == "PolicyBreached"
    assert result.breaches == (
        "RTO not measured: no probe wrote anything (no data-plane probe on this target)",
        "the data check did not run: RPO unknown",
    )
    assert aurora["fis"].list_experiment_templates()["experimentTemplates"] == []


def test_moto_fis_runs_no_action_so_the_drill_sees_no_failover(aurora: dict[str, Any]) -> None:
    before = writer(aurora)
    b = backend(aurora, "fis")
    result = running.run(scenarios.DB_PRIMARY_LOSS, b, b.clock, execute=True)
    observed = {r.step.id: (r.ok, r.observed) for r in result.results if not r.skipped}
    assert observed["kill-primary"][0] and "FIS experiment" in observed["kill-primary"][1]
    assert observed["detect-primary-down"] == (False, "the writer did not change")
    assert writer(aurora) == before and result.verdict == "PolicyBreached"
    assert observed["stop-cluster"][0]


def test_an_alarm_in_alarm_state_stops_the_drill_before_the_fault(aurora: dict[str, Any]) -> None:
    aurora["cloudwatch"].set_alarm_state(AlarmName=ALARM, StateValue="ALARM", StateReason="an incident")
    before = writer(aurora)
    b = backend(aurora, "api")
    result = running.run(scenarios.DB_PRIMARY_LOSS, b, b.clock, execute=True)
    failed = [(r.step.id, r.observed) for r in result.results if not r.ok and not r.skipped]
    assert failed == [("kill-primary", f"stop condition {ALARM} is in ALARM: no fault injected")]
    assert writer(aurora) == before and result.fault_at is None
    assert aurora["fis"].list_experiment_templates()["experimentTemplates"] == []


def test_execute_on_aws_needs_the_cluster_name_typed(aurora: dict[str, Any]) -> None:
    code, _, err = drill(
        "run",
        "db-primary-loss",
        "--target",
        "aws",
        "--execute",
        "--cluster",
        CLUSTER,
        "--stop-alarm",
        ALARM,
        "--role-arn",
        ROLE,
        "--endpoint-url",
        aurora["url"],
        "--confirm",
        "order",
    )
    assert code == 2 and err.startswith("error: --confirm: 'order' is not the cluster's name 'orders'")
    assert aurora["fis"].list_experiment_templates()["experimentTemplates"] == []
    code, _, err = drill("run", "db-primary-loss", "--target", "aws", "--execute", "--cluster", CLUSTER)
    assert code == 2 and err.startswith("error: --stop-alarm: required with --target aws")


def test_the_cli_runs_it_and_prints_the_contract(aurora: dict[str, Any], tmp_path: Any) -> None:
    code, out, _ = drill(
        "run",
        "db-primary-loss",
        "--target",
        "aws",
        "--execute",
        "--json",
        "--cluster",
        CLUSTER,
        "--stop-alarm",
        ALARM,
        "--role-arn",
        ROLE,
        "--endpoint-url",
        aurora["url"],
        "--fault",
        "api",
        "--confirm",
        CLUSTER,
        "--reports-dir",
        str(tmp_path),
    )
    data = __import__("json").loads(out)
    assert code == 1 and (data["target"], data["executed"], data["verdict"]) == (
        "aws",
        True,
        "PolicyBreached",
    )
    assert data["rto_seconds"] is None and data["rpo_commits_lost"] is None
    assert (tmp_path / "history.jsonl").read_text().count("\n") == 1


def test_with_a_dsn_the_probes_measure_rto_and_rpo_beside_the_control_plane(
    aurora: dict[str, Any], postgres_primary: Any
) -> None:
    """The data-plane path of the remote backends: moto for the control plane, a real PostgreSQL for the
    probes. Nothing fails over under the probes here (moto flips the writer flag), so the figures are the
    probes' plumbing, not Aurora's RTO: a write right after the fault, nothing lost."""
    with postgres_primary.connect() as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = 'drill_aws'").fetchone():
            conn.execute("CREATE DATABASE drill_aws")
    dsn = postgres_primary.dsn_for("drill_aws") + "?target_session_attrs=read-write"
    b = drilling.AwsBackend(
        scenario="db-primary-loss", cluster=CLUSTER, stop_alarm=ALARM, role_arn=ROLE,
        endpoint_url=aurora["url"], fault="api", dsn=dsn,
    )  # fmt: skip
    result = running.run(scenarios.DB_PRIMARY_LOSS, b, b.clock, execute=True)
    assert all(r.ok for r in result.results), [(r.step.id, r.observed) for r in result.results]
    m = result.measurement
    assert m is not None and m.rto_seconds is not None and 0 <= m.rto_seconds < 5
    assert m.rpo_commits_lost == 0 and m.writes_acknowledged >= 20 and m.reads_ok > 0
    assert result.verdict == "PolicyMet" and result.probe_log.checked
