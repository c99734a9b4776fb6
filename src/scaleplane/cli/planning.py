"""`scaleplane plan` and `scaleplane check`: the Pulumi program under mocks, and the guardrails over it.

Nothing here talks to a cloud or needs the Pulumi CLI: the program runs in this process under
Pulumi's mocks (scaleplane.infra.planning); `check` feeds the recorded inputs to the same rule
functions the policy pack runs (scaleplane.guardrails).
"""

from __future__ import annotations

import json
import shutil
import sys
import textwrap
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from scaleplane.cli.app import app, fail, spinner

if TYPE_CHECKING:
    from scaleplane.infra import planning as planning_

SECRET = "(secret)"  # the same marker as scaleplane.infra.mocking.SECRET
KEY_INPUTS = {
    "aws:rds/instance:Instance": (
        "instanceClass",
        "availabilityZone",
        "multiAz",
        "replicateSourceDb",
        "storageEncrypted",
        "publiclyAccessible",
        "backupRetentionPeriod",
        "deletionProtection",
    ),
    "aws:elasticache/replicationGroup:ReplicationGroup": (
        "nodeType",
        "numCacheClusters",
        "automaticFailoverEnabled",
        "atRestEncryptionEnabled",
        "transitEncryptionEnabled",
        "snapshotRetentionLimit",
    ),
    "aws:eks/cluster:Cluster": ("version", "vpcConfig", "enabledClusterLogTypes"),
    "aws:eks/nodeGroup:NodeGroup": ("instanceTypes", "scalingConfig"),
    "aws:ec2/subnet:Subnet": ("cidrBlock", "availabilityZone"),
    "aws:ec2/vpc:Vpc": ("cidrBlock",),
    "kubernetes:helm.sh/v3:Release": ("chart", "version", "namespace"),
    "kubernetes:postgresql.cnpg.io/v1:Cluster": ("spec.instances", "spec.affinity"),
    "kubernetes:scaleplane.io/v1alpha1:ScalingPolicy": (
        "spec.targetRef",
        "spec.minReplicas",
        "spec.maxReplicas",
    ),
    "kubernetes:apps/v1:Deployment": ("metadata.name", "metadata.namespace", "spec.replicas"),
}
KUBERNETES_KEYS = ("metadata.name", "metadata.namespace")
SKIPPED = ("apiVersion", "kind")

StackOption = typer.Option(..., "--stack", "-s", help="The stack: Pulumi.<stack>.yaml at the project root.")
ConfigFileOption = typer.Option(
    None, "--config-file", help="Plan this stack config file instead of Pulumi.<stack>.yaml.", dir_okay=False
)
PolicyConfigOption = typer.Option(
    None, "--policy-config", help="Policy pack config (JSON): enforcement levels and thresholds per rule."
)
ManifestsOption = typer.Option(
    None,
    "--manifests",
    help="Write the stack's Kubernetes objects to this folder instead of printing the plan: one manifest "
    "per object in apply order, each Helm release's values under helm/ (charts are not rendered: install "
    "those releases first).",
    file_okay=False,
)
ProjectOption = typer.Option(None, "--project-dir", help="Where Pulumi.yaml is (default: here or above).")


def _project_root(given: Path | None) -> Path:
    if given is not None:
        if not (given / "Pulumi.yaml").is_file():
            raise fail(f"--project-dir: no Pulumi.yaml in {given}")
        return given
    for folder in (Path.cwd(), *Path.cwd().parents):
        if (folder / "Pulumi.yaml").is_file():
            return folder
    raise fail("no Pulumi.yaml here or in a parent folder: run from the repository or pass --project-dir")


def _plan(stack: str, config_file: Path | None, project_dir: Path | None) -> planning_.Plan:
    # The Pulumi provider SDKs are tens of MB of Python source: without cached bytecode every plan
    # compiles them again (tens of seconds). Cache it even where PYTHONDONTWRITEBYTECODE is set; it
    # lands in the virtualenv's site-packages and in git-ignored __pycache__ folders.
    sys.dont_write_bytecode = False
    from scaleplane.infra import config, planning

    root = _project_root(project_dir)
    if config_file is not None and not config_file.is_file():
        raise fail(f"--config-file: no such file: {config_file}")
    try:
        with spinner(f"planning {stack} under Pulumi's mocks"):
            return planning.plan(root, stack, config_file)
    except config.ConfigError as exc:
        raise fail("invalid stack config:\n  " + "\n  ".join(exc.problems)) from None
    except planning.PlanError as exc:
        raise fail(str(exc)) from None
    except Exception as exc:  # the program's own failure: report it, never a traceback
        raise fail(f"the Pulumi program failed under mocks: {type(exc).__name__}: {exc}") from None


def _lookup(inputs: dict[str, Any], dotted: str) -> Any:
    value: Any = inputs
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _summary(resource: Any) -> str:
    keys = KEY_INPUTS.get(resource.type)
    if keys is None and resource.type.startswith("kubernetes:") and "metadata" in resource.inputs:
        keys = KUBERNETES_KEYS
    if keys is None:
        scalars = (k for k, v in resource.inputs.items() if isinstance(v, str | int | float | bool))
        keys = tuple(k for k in scalars if k not in SKIPPED)[:3]
    parts = []
    for key in keys:
        value = SECRET if key in resource.secrets else _lookup(resource.inputs, key)
        if value is not None:
            parts.append(f"{key.rsplit('.', 1)[-1]}={json.dumps(value, separators=(',', ':'))}")
    return " ".join(parts)


def _as_json(plan: planning_.Plan) -> dict[str, Any]:
    return {
        "project": plan.project,
        "stack": plan.stack,
        "resources": [
            {
                "type": r.type,
                "name": r.name,
                "parent": r.parent_name,
                "urn": r.urn,
                "custom": r.custom,
                "provider": r.provider,
                "inputs": {k: (SECRET if k in r.secrets else v) for k, v in r.inputs.items()},
            }
            for r in plan.resources
        ],
        "outputs": {k: (SECRET if k in plan.secret_outputs else v) for k, v in plan.outputs.items()},
        "summary": {"create": len(plan.resources), "byType": counts_by_type(plan)},
    }


@app.command(
    "plan", help="Plan a stack offline (Pulumi mocks, no cloud, no Pulumi CLI): what it would create."
)
def plan(
    stack: str = StackOption,
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object instead of tables."),
    config_file: Path | None = ConfigFileOption,
    project_dir: Path | None = ProjectOption,
    manifests: Path | None = ManifestsOption,
) -> None:
    if manifests is not None:
        _write_manifests(stack, config_file, project_dir, manifests)
        return
    result = _plan(stack, config_file, project_dir)
    if as_json:
        typer.echo(json.dumps(_as_json(result), indent=2, sort_keys=False))
        return
    typer.echo("\n".join(plan_lines(result, shutil.get_terminal_size((80, 24)).columns)))


def _write_manifests(stack: str, config_file: Path | None, project_dir: Path | None, directory: Path) -> None:
    from scaleplane.cli.app import describe_os_error
    from scaleplane.infra import manifests

    try:
        manifests.check_folder(directory)
    except manifests.NotOurFolder as exc:
        raise fail(f"--manifests: {exc}; give an empty or new folder") from None
    except OSError as exc:
        raise fail(f"--manifests: {describe_os_error(exc)}") from None
    result = _plan(stack, config_file, project_dir)
    rendering = manifests.render(result.resources)
    try:
        written = manifests.write(rendering, directory)
    except manifests.NotOurFolder as exc:
        raise fail(f"--manifests: {exc}; give an empty or new folder") from None
    except OSError as exc:
        raise fail(f"--manifests: {describe_os_error(exc)}") from None
    typer.echo(f"{result.stack}: {len(rendering.objects)} objects written to {directory}/ (apply order)")
    for release in rendering.releases:
        values = directory / "helm" / f"{release.name}.values.yaml"
        typer.echo(f"  Helm release {release.name} (not rendered): {release.install_command(str(values))}")
    for name, why in rendering.withheld.items():
        typer.echo(f"  withheld {name}: {why}")
    typer.echo(f"  {len(written)} files; apply with: kubectl apply -f {directory}/")


def plan_lines(result: planning_.Plan, width: int) -> list[str]:
    """The plan as `pulumi preview` shows one: a tree of `+ type name`, key inputs under each, then the
    outputs and the count by type. Lines wrap between values, so a value (a number) is never cut."""
    names = {resource.name for resource in result.resources}
    children: dict[str, list[Any]] = {}
    for resource in result.resources:
        parent = resource.parent_name if resource.parent_name in names else ""
        children.setdefault(parent, []).append(resource)
    lines = [f"{result.project}/{result.stack}: offline plan under Pulumi's mocks (nothing is created)", ""]

    def walk(parent: str, depth: int) -> None:
        for resource in children.get(parent, []):
            indent = "  " * min(depth, 6)
            lines.extend(_wrap(f"+ {resource.type}  {resource.name}", width, indent))
            inputs = _summary(resource)
            if inputs:
                lines.extend(_wrap(inputs, width, indent + "      "))
            if resource.name != parent:
                walk(resource.name, depth + 1)

    walk("", 0)
    lines += ["", "Outputs (cloud-computed values are mock placeholders):"]
    for key, value in result.outputs.items():
        shown = SECRET if key in result.secret_outputs else json.dumps(value)
        lines.extend(_wrap(f"{key}: {shown}", width, "    "))
    return [*lines, "", *_by_type(result).splitlines()]


def _wrap(text: str, width: int, indent: str) -> list[str]:
    return textwrap.wrap(
        text,
        width=max(width, len(indent) + 20),
        initial_indent=indent,
        subsequent_indent=indent + "  ",
        break_long_words=False,
        break_on_hyphens=False,
    ) or [indent]


def counts_by_type(result: planning_.Plan) -> dict[str, int]:
    """{type: how many}, most first, as `pulumi preview` sums a preview up."""
    counts: dict[str, int] = {}
    for resource in result.resources:
        counts[resource.type] = counts.get(resource.type, 0) + 1
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def _by_type(result: planning_.Plan) -> str:
    counts = counts_by_type(result)
    width = len(str(max(counts.values(), default=0)))
    lines = [f"Resources:\n    +{len(result.resources)} to create"]
    lines += [f"      {count:>{width}} {type_}" for type_, count in counts.items()]
    return "\n".join(lines)


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
    stack: str = StackOption,
    config_file: Path | None = ConfigFileOption,
    policy_config: Path | None = PolicyConfigOption,
    project_dir: Path | None = ProjectOption,
    output_format: Format = FormatOption,
) -> None:
    from scaleplane.cli.app import version
    from scaleplane.guardrails import catalog, findings, rules, running

    settings: dict[str, Any] = {}
    if policy_config is not None:
        try:
            settings = running.load_config(policy_config)
        except running.PolicyConfigError as exc:
            raise fail(str(exc)) from None
    result = _plan(stack, config_file, project_dir)
    resources = [
        rules.Resource(type=r.type, name=r.name, props=r.inputs, urn=r.urn) for r in result.resources
    ]
    settings = _with_budget(settings, stack, config_file, project_dir)
    # Runbook paths in alerts are relative to the project being checked.
    runbooks = settings.get("alert-runbook-exists")
    if not isinstance(runbooks, str):
        root = str(_project_root(project_dir))
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
    from scaleplane.cli import costing
    from scaleplane.guardrails import budgets

    region, cost = costing.cost_config(stack, config_file, project_dir)
    merged = budgets.with_stack_budget(settings, cost.monthly_budget_usd)
    if isinstance(merged.get(budgets.RULE_ID), dict):
        merged[budgets.RULE_ID].setdefault("region", region)
    return merged
