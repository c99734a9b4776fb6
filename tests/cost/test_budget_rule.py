"""The budget guardrail on the real example stacks: `scaleplane check` and the policy pack's own types."""

from __future__ import annotations

import pulumi_policy as policy
from typer.testing import CliRunner

from scaleplane.cli import app
from scaleplane.cli import plan as plan_commands  # noqa: F401 - importing it registers plan and check
from scaleplane.guardrails import budgets, pack, rules, running
from tests.support import planned_stacks

RUNNER = CliRunner()


def _check(overrides: dict[str, object]) -> tuple[int, str, str]:
    stack_file = planned_stacks.stack_file("aws-prod", overrides)
    result = RUNNER.invoke(app.app, ["check", "--stack", "aws-prod", "--config-file", str(stack_file)])
    return result.exit_code, result.stdout, result.stderr


def test_prod_within_its_budget_passes_check() -> None:
    code, out, _ = _check({"cost": {"monthlyBudgetUsd": 3000}})
    assert code == 0, out
    assert "stack-monthly-budget" not in out


def test_prod_over_its_budget_fails_check_naming_the_biggest_contributors() -> None:
    code, out, err = _check({"cost": {"monthlyBudgetUsd": 1000}})
    assert code == 1
    assert "MANDATORY stack-monthly-budget: aws:elasticache/replicationGroup:ReplicationGroup" in out
    # three cache.r6g.large nodes, then the m6i.xlarge general node group, then the Multi-AZ primary
    assert "is over the budget of $1,000.00 by $1,207.82" in out
    assert (
        "biggest contributors: scaleplane-prod-cache-redis $451.14, scaleplane-prod-cluster-general $435.48, "
        in out
    )
    assert "FAILED" in err


def test_no_budget_no_check() -> None:
    plan = planned_stacks.planned("aws-prod")
    resources = [rules.Resource(r.type, r.name, r.inputs, r.urn) for r in plan.resources]
    assert not [v for v in running.evaluate(resources) if v.rule.id == budgets.RULE_ID]


def test_a_policy_config_budget_wins_over_the_stacks() -> None:
    merged = budgets.with_stack_budget({budgets.RULE_ID: {"monthlyBudgetUsd": 10}}, 3000)
    assert merged[budgets.RULE_ID]["monthlyBudgetUsd"] == 10
    merged = budgets.with_stack_budget({budgets.RULE_ID: "advisory"}, 3000)
    assert merged[budgets.RULE_ID] == {"enforcementLevel": "advisory", "monthlyBudgetUsd": 3000}


def test_the_pack_policy_reports_on_the_biggest_contributors_urn() -> None:
    plan = planned_stacks.planned("aws-prod")
    options = policy.PolicyResourceOptions(
        False, [], None, [], [], policy.PolicyCustomTimeouts(0, 0, 0), None
    )
    resources = [
        policy.PolicyResource(r.type, r.inputs, r.urn, r.name, options, None, None, [], {})
        for r in plan.resources
    ]
    check = next(p for p in pack.policies() if p.name == budgets.RULE_ID)
    assert isinstance(check, policy.StackValidationPolicy)
    reports: list[tuple[str, str | None]] = []
    args = policy.StackValidationArgs(resources, {"monthlyBudgetUsd": 2000})
    check.validate(args, lambda message, urn=None: reports.append((message, urn)))
    ((message, urn),) = reports
    assert "over the budget of $2,000.00" in message and "Fix: Shrink the biggest contributors" in message
    assert urn is not None and urn.endswith("::scaleplane-prod-cache-redis")
    reports.clear()
    check.validate(
        policy.StackValidationArgs(resources, {"monthlyBudgetUsd": 5000}),
        lambda m, urn=None: reports.append((m, urn)),
    )
    assert reports == []
