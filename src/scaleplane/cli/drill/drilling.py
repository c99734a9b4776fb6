"""The `scaleplane drill` group, its targets and scenarios, and the commands that touch nothing: list, plan.

`registry()` maps each --target to its backend (local, kubernetes, aws); `run`, `recover` and
`history` are cli.drill.executing. Heavy imports (psycopg, matplotlib, the local servers) happen
inside the commands.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from scaleplane.cli.app import app, fail

if TYPE_CHECKING:
    from scaleplane.drills.engine import backends, running, steps

drill = typer.Typer(
    name="drill",
    help=(
        "Disaster-recovery drills that fail real servers over and measure RTO (fault to first acknowledged "
        "write) and RPO (acknowledged commits lost).\n\n"
        "[bold]scaleplane drill list[/bold] shows the scenarios, [bold]scaleplane drill plan SCENARIO[/bold] "
        "prints every step and touches nothing, [bold]scaleplane drill run SCENARIO --execute[/bold] runs it "
        "and writes a report (Markdown, JSON, timeline PNG) and a line of history. Runbooks: runbooks/."
    ),
    no_args_is_help=True,
    rich_markup_mode="rich",
)
app.add_typer(drill)

KINDS = ("aurora", "multi-az", "read-replica")
DEFAULT_STATE = Path(".scaleplane/drills/local")
DEFAULT_REPORTS = Path(".scaleplane/drills")
Target = Annotated[
    str,
    typer.Option(
        "--target",
        help="Where the drill runs: local (this machine: real Patroni, Sentinel, pgBackRest), kubernetes (a "
        "CloudNativePG Cluster of the current kubeconfig: needs --cluster, --namespace) or aws (an Aurora "
        "cluster: needs --cluster, --stop-alarm, --role-arn).",
    ),
]
StateDir = Annotated[
    Path, typer.Option("--state-dir", help="The drill's servers, PID records and logs (local target).")
]


def registry() -> backends.Registry:
    from scaleplane.drills.aws import drilling as aws_drilling
    from scaleplane.drills.engine import backends
    from scaleplane.drills.kubernetes import drilling as kubernetes_drilling
    from scaleplane.local.ha.drills import drilling

    found = backends.Registry()
    found.register("local", drilling.LocalBackend)
    found.register("kubernetes", kubernetes_drilling.KubernetesBackend)
    found.register("aws", aws_drilling.AwsBackend)
    return found


def scenario_named(name: str) -> steps.Scenario:
    """The scenario of that name, or `error: scenario: ...` listing the known ones."""
    from scaleplane.drills.engine import scenarios

    try:
        return scenarios.get(name)
    except KeyError as error:
        raise fail(f"scenario: {error.args[0]}") from None


def backend_for(target: str, scenario: steps.Scenario, **options: Any) -> backends.Backend:
    """The --target's backend for `scenario`, or `error: --target: ...` when it has none or cannot run it."""
    try:
        backend = registry().create(target, scenario=scenario.name, **options)
    except KeyError as error:
        raise fail(f"--target: {error.args[0]}") from None
    if not backend.supports(scenario.name):
        raise fail(f"--target: the {target} backend has no scenario {scenario.name!r}")
    return backend


@drill.command("list", help="The scenarios, their objectives and the targets that run them.")
def list_scenarios(as_json: Annotated[bool, typer.Option("--json", help="One JSON object.")] = False) -> None:
    from scaleplane.drills.engine import scenarios

    reg = registry()
    rows: list[dict[str, Any]] = []
    for scenario in scenarios.SCENARIOS.values():
        targets = [t for t in reg.targets() if reg.create(t, scenario=scenario.name).supports(scenario.name)]
        goal = scenario.objectives
        rows.append(
            {
                "scenario": scenario.name,
                "summary": scenario.summary,
                "targets": targets,
                "objectives": {
                    "rto_seconds": goal.rto_seconds,
                    "rpo_seconds": goal.rpo_seconds,
                    "rpo_commits": goal.rpo_commits,
                },
            }
        )
    if as_json:
        typer.echo(json.dumps({"scenarios": rows}, indent=2))
        return
    for row in rows:
        o: dict[str, Any] = row["objectives"]
        typer.echo(
            f"{row['scenario']:<20} RTO <= {o['rto_seconds']:g} s, RPO <= {o['rpo_seconds']:g} s / "
            f"{o['rpo_commits']} commits  targets: {', '.join(row['targets'])}"
        )
        typer.echo(f"{'':<20} {row['summary']}")


def print_plan(result: running.DrillResult) -> None:
    """Every step of a planned drill with what it does, expects and runs; then that nothing was touched."""
    typer.echo(f"{result.scenario.name} on {result.target}: {result.scenario.summary}")
    o = result.scenario.objectives
    typer.echo(
        f"objectives: RTO <= {o.rto_seconds:g} s, RPO <= {o.rpo_seconds:g} s and {o.rpo_commits} commits"
    )
    for index, r in enumerate(result.results, 1):
        typer.echo(f"{index:>2}. [{r.step.phase}] {r.step.id} (timeout {r.step.timeout_seconds:g} s)")
        typer.echo(f"    does:   {r.step.does}")
        typer.echo(f"    expect: {r.step.expect}")
        for command in r.commands:
            typer.echo(f"    $ {command}")
    typer.echo("nothing was touched (add --execute to `drill run` to run it)")


@drill.command(
    "plan", help="Print every step of a drill with its expectation, timeout and commands; touches nothing."
)
def plan(
    scenario: Annotated[str, typer.Argument(help="A scenario from `scaleplane drill list`.")],
    target: Target = "local",
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object (executed: false).")] = False,
    kind: Annotated[
        str, typer.Option("--kind", help="aws: aurora, multi-az or read-replica (see `drill run --help`).")
    ] = "aurora",
) -> None:
    from scaleplane.drills.engine import running
    from scaleplane.drills.probing import clocks
    from scaleplane.drills.reporting import reports

    chosen = scenario_named(scenario)
    if kind not in KINDS:
        raise fail(f"--kind: must be aurora, multi-az or read-replica, was {kind!r}")
    options = {"kind": kind} if target == "aws" else {}
    result = running.plan(chosen, backend_for(target, chosen, **options), clocks.WallClock())
    if as_json:
        typer.echo(json.dumps(reports.as_json(result), indent=2))
    else:
        print_plan(result)
