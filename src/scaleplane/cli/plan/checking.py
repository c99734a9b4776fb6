"""`scaleplane check`: the guardrails over the stack's offline plan; exit 1 on a mandatory violation.

It feeds the planned resources to the same rule functions the Pulumi policy pack runs
(scaleplane.guardrails), with the stack's own budget (docs/cost.md), and prints the findings for
people or for CI (JSON, SARIF, JUnit).
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Any

import typer

from scaleplane.cli import stacks
from scaleplane.cli.app import app, fail, version

PolicyConfigOption = typer.Option(
    None, "--policy-config", help="Policy pack config (JSON): enforcement levels and thresholds per rule."
)


class Format(StrEnum):
    text = "text"
    json = "json"
    sarif = "sarif"
    junit = "junit"


FormatOption = typer.Option(
    Format.text,
    "--format",
    help="text for people; json, sarif (GitHub code scanning) or junit (CI test reports) for machines.",
)


@app.command("check", help="Run the guardrails over the offline plan; exit 1 on a mandatory violation.")
def check(
    stack: str = stacks.StackOption,
    config_file: Path | None = stacks.ConfigFileOption,
    policy_config: Path | None = PolicyConfigOption,
    project_dir: Path | None = stacks.ProjectOption,
    output_format: Format = FormatOption,
) -> None:
    from scaleplane.guardrails import catalog, findings, rules, running

    settings: dict[str, Any] = {}
    if policy_config is not None:
        try:
            settings = running.load_config(policy_config)
        except running.PolicyConfigError as exc:
            raise fail(str(exc)) from None
    result = stacks.offline_plan(stack, config_file, project_dir)
    resources = [
        rules.Resource(type=r.type, name=r.name, props=r.inputs, urn=r.urn) for r in result.resources
    ]
    settings = _with_budget(settings, stack, config_file, project_dir)
    # Runbook paths in alerts are relative to the project being checked.
    runbooks = settings.get("alert-runbook-exists")
    if not isinstance(runbooks, str):
        root = str(stacks.project_root(project_dir))
        settings["alert-runbook-exists"] = {"projectRoot": root, **(runbooks or {})}
    violations = running.evaluate(resources, settings)
    blocking = running.mandatory(violations)
    stack_file = str(config_file or f"Pulumi.{stack}.yaml")
    if output_format is Format.json:
        typer.echo(findings.as_json(result.stack, len(resources), violations))
    elif output_format is Format.sarif:
        typer.echo(findings.as_sarif(stack_file, catalog.RULES, violations, version()))
    elif output_format is Format.junit:
        typer.echo(findings.as_junit(result.stack, catalog.RULES, violations))
    else:
        for violation in violations:
            color = typer.colors.RED if violation.enforcement == "mandatory" else typer.colors.YELLOW
            typer.secho(
                f"{violation.enforcement.upper()} {violation.rule.id}: {violation.subject}",
                fg=color,
                bold=True,
            )
            typer.echo(f"  {violation.message}\n  fix: {violation.rule.remediation}")
    summary = (
        f"{result.stack}: {len(resources)} resources, {len(violations)} violation(s), "
        f"{len(blocking)} mandatory"
    )
    if blocking:
        typer.secho(f"FAILED {summary}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1)
    if output_format is Format.text:
        typer.secho(f"passed {summary}", fg=typer.colors.GREEN)
    else:
        typer.secho(f"passed {summary}", fg=typer.colors.GREEN, err=True)


def _with_budget(
    settings: dict[str, Any], stack: str, config_file: Path | None, project_dir: Path | None
) -> Any:
    """The stack's scaleplane:cost budget (and region) handed to the budget rule (docs/cost.md)."""
    from scaleplane.guardrails import budgets

    region, cost = stacks.cost_config(stack, config_file, project_dir)
    merged = budgets.with_stack_budget(settings, cost.monthly_budget_usd)
    if isinstance(merged.get(budgets.RULE_ID), dict):
        merged[budgets.RULE_ID].setdefault("region", region)
    return merged
