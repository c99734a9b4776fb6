"""`scaleplane drill list | plan | run | recover | history`: disaster-recovery drills.

Safe by default: `plan`, and `run` without `--execute`, print every step and touch nothing. Heavy
imports (psycopg, matplotlib, the local servers) happen inside the commands.
"""

from __future__ import annotations

import json
import signal
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
    from scaleplane.local.ha import drilling

    found = backends.Registry()
    found.register("local", drilling.LocalBackend)
    found.register("kubernetes", kubernetes_drilling.KubernetesBackend)
    found.register("aws", aws_drilling.AwsBackend)
    return found


def _scenario(name: str) -> steps.Scenario:
    from scaleplane.drills.engine import scenarios

    try:
        return scenarios.get(name)
    except KeyError as error:
        raise fail(f"scenario: {error.args[0]}") from None


def _backend(target: str, scenario: steps.Scenario, **options: Any) -> backends.Backend:
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


def _print_plan(result: running.DrillResult) -> None:
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

    chosen = _scenario(scenario)
    if kind not in KINDS:
        raise fail(f"--kind: must be aurora, multi-az or read-replica, was {kind!r}")
    options = {"kind": kind} if target == "aws" else {}
    result = running.plan(chosen, _backend(target, chosen, **options), clocks.WallClock())
    if as_json:
        typer.echo(json.dumps(reports.as_json(result), indent=2))
    else:
        _print_plan(result)


def _interrupt(signum: int, _frame: object) -> None:
    # A SIGTERM (a CI cancel, `kill`) unwinds like Ctrl-C, so the rollback still stops every server.
    raise KeyboardInterrupt(f"signal {signum}")


@drill.command(
    "run",
    help=(
        "Run a drill. Without --execute it only prints the plan (as `drill plan`). With --execute it "
        "starts the servers, injects the fault, watches the real failover, measures RTO and RPO, always "
        "rolls back (stops every process it started), and writes SCENARIO-TIME.md/.json/.png under "
        "--reports-dir plus a line in its history.jsonl. Exit 0 when the verdict is PolicyMet, 1 when "
        "PolicyBreached.\n\nThe local target needs the Debian packages patroni, etcd-server and postgresql "
        "(scripts/bootstrap.sh installs them) and takes about a minute."
    ),
)
def run(
    scenario: Annotated[str, typer.Argument(help="A scenario from `scaleplane drill list`.")],
    target: Target = "local",
    execute: Annotated[bool, typer.Option("--execute", help="Really run it (otherwise: the plan).")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object (the report).")] = False,
    state_dir: StateDir = DEFAULT_STATE,
    reports_dir: Annotated[
        Path, typer.Option("--reports-dir", help="Where reports and history.jsonl go.")
    ] = DEFAULT_REPORTS,
    replication: Annotated[
        str,
        typer.Option("--replication", help="local: sync (Patroni synchronous_mode: RPO must be 0) or async."),
    ] = "sync",
    cluster: Annotated[
        str,
        typer.Option(
            "--cluster", help="kubernetes: the CNPG Cluster; aws: the Aurora DB cluster identifier."
        ),
    ] = "",
    namespace: Annotated[
        str, typer.Option("--namespace", help="kubernetes: the Cluster's namespace.")
    ] = "default",
    stop_alarm: Annotated[
        str, typer.Option("--stop-alarm", help="aws: the CloudWatch alarm that stops the FIS experiment.")
    ] = "",
    role_arn: Annotated[
        str, typer.Option("--role-arn", help="aws: the IAM role FIS runs the experiment as.")
    ] = "",
    region: Annotated[str, typer.Option("--region", help="aws: the region.")] = "us-east-1",
    endpoint_url: Annotated[
        str | None, typer.Option("--endpoint-url", help="aws: another API endpoint (e.g. moto_server).")
    ] = None,
    dsn: Annotated[
        str | None,
        typer.Option("--dsn", help="aws: the cluster's DSN for the probes (else RTO/RPO unmeasured)."),
    ] = None,
    fault: Annotated[
        str | None,
        typer.Option(
            "--fault",
            help="aws: fis (an FIS experiment, the default) or api (the bare call); kubernetes: auto (a "
            "Chaos Mesh PodChaos when its CRD is served, the default), delete (the Pod) or chaos-mesh.",
        ),
    ] = None,
    kind: Annotated[
        str,
        typer.Option(
            "--kind",
            help="aws: what --cluster names: aurora (an Aurora DB cluster), multi-az (a Multi-AZ DB "
            "instance: forced failover) or read-replica (a DB instance whose read replica is promoted).",
        ),
    ] = "aurora",
    confirm: Annotated[
        str | None,
        typer.Option("--confirm", help="kubernetes, aws: the cluster's name, typed, to allow --execute."),
    ] = None,
) -> None:
    from scaleplane.drills.engine import running
    from scaleplane.drills.probing import clocks
    from scaleplane.drills.reporting import reports, timelines

    chosen = _scenario(scenario)
    if replication not in ("sync", "async"):
        raise fail(f"--replication: must be sync or async, was {replication!r}")
    faults = {"aws": ("fis", "api"), "kubernetes": ("auto", "delete", "chaos-mesh")}.get(target, ())
    if fault is not None and fault not in faults:
        raise fail(f"--fault: must be one of {', '.join(faults) or '(none on this target)'}, was {fault!r}")
    if kind not in KINDS:
        raise fail(f"--kind: must be aurora, multi-az or read-replica, was {kind!r}")
    if target == "aws":
        for name, value in (("--cluster", cluster), ("--stop-alarm", stop_alarm), ("--role-arn", role_arn)):
            if not value:
                raise fail(f"{name}: required with --target aws")
        options: dict[str, Any] = {
            "cluster": cluster, "stop_alarm": stop_alarm, "role_arn": role_arn, "region": region,
            "endpoint_url": endpoint_url, "dsn": dsn, "fault": fault or "fis", "kind": kind,
        }  # fmt: skip
    elif target == "kubernetes":
        if (
            not cluster and chosen.name != "operator-leader-loss"
        ):  # that one is the operator's, in --namespace
            raise fail("--cluster: required with --target kubernetes")
        options = {"cluster": cluster, "namespace": namespace, "dsn": dsn, "fault": fault or "auto"}
    else:
        options = {"state_dir": state_dir, "synchronous": replication == "sync"}
    backend = _backend(target, chosen, **options)
    if execute and target in ("aws", "kubernetes"):
        what, name = ("cluster", cluster) if cluster else ("namespace", namespace)
        typed = (
            confirm
            if confirm is not None
            else typer.prompt(f"type the {what}'s name ({name}) to fail it over")
        )
        if typed != name:
            raise fail(f"--confirm: {typed!r} is not the {what}'s name {name!r}: nothing was touched")
    if not execute:
        result = running.plan(chosen, backend, clocks.WallClock())
        if as_json:
            typer.echo(json.dumps(reports.as_json(result), indent=2))
        else:
            _print_plan(result)
        return

    if target == "local":
        from scaleplane.local.ha import drillfiles

        try:
            drillfiles.check_free(state_dir)
        except drillfiles.DrillBusy as error:
            raise fail(str(error)) from None

    def progress(step: running.StepResult) -> None:
        state = "ok" if step.ok else "FAILED"
        typer.echo(
            f"[{step.step.phase}] {step.step.id}: {state} in {step.seconds:.1f} s, {step.observed}", err=True
        )

    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        result = running.run(chosen, backend, clocks.WallClock(), execute=True, on_step=progress)
    finally:
        signal.signal(signal.SIGTERM, previous)
    stamp = reports.stamp(result)
    base = reports_dir / "reports" / f"{chosen.name}-{stamp}"
    png = timelines.write_png(result, base.with_suffix(".png"))
    data = reports.as_json(result)
    data["report"] = {
        "markdown": str(base.with_suffix(".md")),
        "json": str(base.with_suffix(".json")),
        "timeline": str(png),
        "history": str(reports_dir / "history.jsonl"),
    }
    base.with_suffix(".md").write_text(reports.markdown(result, png.name))
    base.with_suffix(".json").write_text(json.dumps(data, indent=2) + "\n")
    reports.append_history(reports_dir / "history.jsonl", result)
    if as_json:
        typer.echo(json.dumps(data, indent=2))
    else:
        m = result.measurement
        assert m is not None
        typer.echo(
            f"{result.verdict}: RTO {m.rto_seconds} s, RPO {m.rpo_commits_lost} acknowledged commits "
            f"lost ({m.rpo_seconds} s); report {base.with_suffix('.md')}"
        )
        for breach in result.breaches:
            typer.echo(f"  breach: {breach}")
    if result.verdict != "PolicyMet":
        raise typer.Exit(1)


@drill.command(
    "recover",
    help="Clean up after a drill that was killed half way: end every process it recorded (by PID record "
    "and process group) and any PostgreSQL still running in its data directories, then delete its data.",
)
def recover(state_dir: StateDir = DEFAULT_STATE) -> None:
    from scaleplane.local.ha import drillfiles

    try:
        ended, postmasters = drillfiles.recover(state_dir)
    except drillfiles.DrillBusy as error:
        raise fail(str(error)) from None
    names = [f"{r.name} ({r.pid})" for r in ended] + [f"postmaster ({pid})" for pid in postmasters]
    typer.echo(f"ended {', '.join(names)}" if names else f"nothing left to clean up in {state_dir}")


@drill.command("history", help="RTO and RPO of every drill run so far (from --reports-dir/history.jsonl).")
def history(
    reports_dir: Annotated[
        Path, typer.Option("--reports-dir", help="Where drill run wrote history.jsonl.")
    ] = (DEFAULT_REPORTS),
) -> None:
    from scaleplane.drills.reporting import reports

    rows = reports.read_history(reports_dir / "history.jsonl")
    if not rows:
        typer.echo(f"no drill has run yet ({reports_dir / 'history.jsonl'} is empty)")
    for row in rows:
        typer.echo(
            f"{row['started']}  {row['scenario']:<18} {row['target']:<6} RTO {row['rto_seconds']} s  "
            f"lost {row['rpo_commits_lost']} ({row['rpo_seconds']} s)  {row['verdict']}"
        )
