"""`scaleplane cost estimate` as a user runs it: inventory, Infracost JSON, --compare, --trace, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scaleplane.cli import app
from scaleplane.cli import cost as cost_commands  # noqa: F401 - importing it registers the cost commands
from tests.support import planned_stacks

RUNNER = CliRunner()


def _run(*args: str) -> tuple[int, str, str]:
    result = RUNNER.invoke(app.app, list(args))
    return result.exit_code, result.stdout, result.stderr


def _prod(*args: str) -> tuple[int, str, str]:
    return _run(
        "cost",
        "estimate",
        "--stack",
        "aws-prod",
        "--config-file",
        str(planned_stacks.stack_file("aws-prod")),
        *args,
    )


def test_estimate_prints_the_inventory_with_prices_and_the_range() -> None:
    code, out, _ = _prod()
    assert code == 0, out
    assert "scaleplane-prod-db-primary" in out and "db.r6g.large" in out and "$0.45/Hrs" in out
    assert "/month" in out and "at the maximums" in out
    assert "usage-based component(s) without usage" in out


def test_estimate_json_is_in_infracosts_shape() -> None:
    code, out, _ = _prod("--json")
    assert code == 0
    document = json.loads(out)
    assert document["version"] == "0.2" and document["currency"] == "USD"
    project = document["projects"][0]
    resources = project["breakdown"]["resources"]
    total = sum(float(r["monthlyCost"]) for r in resources)
    assert float(document["totalMonthlyCost"]) == pytest.approx(total)
    assert float(project["breakdown"]["totalMonthlyCost"]) == pytest.approx(total)
    assert float(document["totalHourlyCost"]) == pytest.approx(total / 730)
    component = next(r for r in resources if r["resourceType"] == "aws:eks/cluster:Cluster")[
        "costComponents"
    ][0]
    assert set(component) >= {
        "name",
        "unit",
        "hourlyQuantity",
        "monthlyQuantity",
        "price",
        "hourlyCost",
        "monthlyCost",
    }
    assert (component["price"], component["monthlyQuantity"], component["monthlyCost"]) == (
        "0.1",
        "730",
        "73",
    )
    ranges = project["metadata"]["scaleplane"]["monthlyCostRange"]
    assert float(ranges["min"]) < float(ranges["expected"]) < float(ranges["max"])
    assert project["summary"]["totalUnsupportedResources"] == 0


def test_compare_prints_the_difference_per_resource() -> None:
    code, out, _ = _prod("--compare", "aws-dev")
    assert code == 0, out
    assert "difference per resource: aws-dev -> aws-prod" in out
    assert "db-replica-2" in out and "cluster-nat-us-east-1b" in out


def test_compare_with_an_infracost_file_adds_the_diff(tmp_path: Path) -> None:
    code, out, _ = _run("cost", "estimate", "--stack", "aws-dev", "--json")
    assert code == 0
    baseline = tmp_path / "dev.json"
    baseline.write_text(out)
    code, out, _ = _prod("--json", "--compare", str(baseline))
    assert code == 0, out
    document = json.loads(out)
    diff = document["projects"][0]["diff"]
    assert float(document["diffTotalMonthlyCost"]) == pytest.approx(
        float(document["totalMonthlyCost"]) - float(document["pastTotalMonthlyCost"])
    )
    by_name = {(r["resourceType"], r["name"]): r for r in diff["resources"]}
    replica = by_name[("aws:rds/instance:Instance", "db-replica-2")]
    assert float(replica["pastMonthlyCost"]) == 0 and float(replica["monthlyCost"]) > 0


def test_trace_prices_the_expected_replicas_between_the_bounds(tmp_path: Path) -> None:
    trace = tmp_path / "reads.csv"  # commits/s on the replicas: 1,500/s for 3 h, then 300/s for 3 h
    trace.write_text("t,demand\n" + "".join(f"{i * 60},{1500 if i < 180 else 300}\n" for i in range(360)))
    code, out, _ = _prod(
        "--json", "--trace", str(trace), "--trace-policy", "read-replicas", "--capacity", "500"
    )
    assert code == 0, out
    resources = json.loads(out)["projects"][0]["breakdown"]["resources"]
    policy = next(r for r in resources if r["name"] == "scaleplane-prod-operator-read-replicas")
    part = policy["metadata"]["scaleplane"]["autoscaled"][0]
    assert (part["minReplicas"], part["maxReplicas"]) == (2, 5)
    assert 2.5 < part["expectedReplicas"] < 3.5  # 3 replicas half the time, 2 the other half
    assert part["basis"].startswith("reads.csv replayed (6.0 h")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("--usage", "{tmp}/usage.yml"),
            "usage.yml: resource_usage.x.storage_gb: must be a number >= 0, was -1",
        ),
        (("--prices", "{tmp}/missing.json"), "missing.json does not exist"),
        (("--trace", "{tmp}/usage.yml"), "usage.yml:1: unknown header 'resource_usage:'"),
        (
            ("--trace", "{tmp}/t.csv", "--trace-policy", "nothing"),
            "--trace-policy: no ScalingPolicy in the plan",
        ),
        (("--compare", "no-such-stack"), "no stack named 'no-such-stack'"),
        (("--capacity", "0", "--trace", "x.csv"), "--capacity: must be > 0, was 0.0"),
    ],
)
def test_bad_input_is_one_error_line_and_exit_2(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    (tmp_path / "usage.yml").write_text("resource_usage:\n  x: {storage_gb: -1}\n")
    (tmp_path / "t.csv").write_text("t,demand\n0,1\n60,2\n")
    code, _, err = _prod(*(arg.replace("{tmp}", str(tmp_path)) for arg in args))
    assert code == 2
    assert err.startswith("error: ") and message in err and "Traceback" not in err


def test_the_example_usage_file_prices_every_usage_based_part_and_the_report_has_its_chart(
    tmp_path: Path,
) -> None:
    usage = planned_stacks.ROOT / "examples" / "cost" / "usage.aws-prod.yml"
    code, out, err = _prod("--json", "--usage", str(usage), "--report", str(tmp_path))
    assert code == 0, err
    document = json.loads(out)
    components = [c for r in document["projects"][0]["breakdown"]["resources"] for c in r["costComponents"]]
    assert [c["name"] for c in components if c["usageBased"] and c["monthlyCost"] is None] == []
    assert float(document["projects"][0]["breakdown"]["totalMonthlyUsageCost"]) > 0
    page = (tmp_path / "cost-estimate.md").read_text()
    assert "## By component" in page and "Instance usage" in page and "## Autoscaled parts" in page
    assert (tmp_path / "cost-by-component.png").stat().st_size > 5000


def test_a_kubernetes_stack_is_priced_by_the_node_price_in_its_config() -> None:
    node = {"hourlyUsd": 0.192, "vcpu": 4, "memoryGib": 16}
    stack_file = planned_stacks.stack_file("k8s-dev", {"cost": {"nodePrice": node}})
    result = RUNNER.invoke(
        app.app, ["cost", "estimate", "--stack", "k8s-dev", "--config-file", str(stack_file), "--json"]
    )
    assert result.exit_code == 0, result.output
    project = json.loads(result.stdout)["projects"][0]
    priced = {r["resourceType"] for r in project["breakdown"]["resources"] if float(r["monthlyCost"]) > 0}
    assert "kubernetes:postgresql.cnpg.io/v1:Cluster" in priced
    unpriced = {r["resourceType"]: r["reason"] for r in project["metadata"]["scaleplane"]["unpriced"]}
    assert unpriced["kubernetes:helm.sh/v3:Release"] == "the plan shows no pod requests"
    without = RUNNER.invoke(
        app.app,
        [
            "cost",
            "estimate",
            "--stack",
            "k8s-dev",
            "--config-file",
            str(planned_stacks.stack_file("k8s-dev", {"cost": {"nodePrice": None}})),
            "--json",
        ],
    )
    reasons = {
        r["reason"] for r in json.loads(without.stdout)["projects"][0]["metadata"]["scaleplane"]["unpriced"]
    }
    assert reasons == {"no node price: set scaleplane:cost.nodePrice"}
