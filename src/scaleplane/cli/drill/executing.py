"""`scaleplane drill run | recover | history`: a drill run for real, and what a run leaves behind.

`run` without --execute only prints the plan (as `drill plan`); with it, the servers are started, the
fault injected, RTO and RPO measured, and everything started is rolled back, then the report and a
line of history are written. `recover` ends what a killed run left running; `history` reads the
lines back. The group, the targets and the scenarios are cli.drill.drilling.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from scaleplane.cli.app import fail
from scaleplane.cli.drill.drilling import (
    DEFAULT_REPORTS,
    DEFAULT_STATE,
    KINDS,
    StateDir,
    Target,
    backend_for,
    drill,
    print_plan,
    scenario_named,
)
from scaleplane.local.servers import interrupts


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

    chosen = scenario_named(scenario)
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
    backend = backend_for(target, chosen, **options)
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
            print_plan(result)
        return

    if target == "local":
        from scaleplane.local.ha.drills import drillfiles

        try:
            drillfiles.check_free(state_dir)
        except drillfiles.DrillBusy as error:
            raise fail(str(error)) from None

    def progress(step: running.StepResult) -> None:
        state = "ok" if step.ok else "FAILED"
        typer.echo(
            f"[{step.step.phase}] {step.step.id}: {state} in {step.seconds:.1f} s, {step.observed}", err=True
        )

    # A SIGTERM (a CI cancel, `kill`) unwinds like Ctrl-C, so the rollback still stops every server.
    with interrupts.sigterm_unwinds():
        result = running.run(chosen, backend, clocks.WallClock(), execute=True, on_step=progress)
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
    if target == "local":  # the rollback deleted the servers' data but kept their logs
        data["report"]["logs"] = str(drillfiles.logs_dir(state_dir))
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
        if target == "local":
            typer.echo(f"the servers' logs of this drill: {drillfiles.logs_dir(state_dir)}", err=True)
        raise typer.Exit(1)


@drill.command(
    "recover",
    help="Clean up after a drill that was killed half way: end every process it recorded (by PID record "
    "and process group) and any PostgreSQL still running in its data directories, then delete its data "
    "(the servers' logs are kept in --state-dir/logs).",
)
def recover(state_dir: StateDir = DEFAULT_STATE) -> None:
    from scaleplane.local.ha.drills import drillfiles

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
