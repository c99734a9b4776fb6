"""`scaleplane demo` and `scaleplane local up|status|down|doctor`: the platform on this machine.

Heavy imports (the platform, rich's live view, matplotlib) happen inside the commands.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from scaleplane.cli.app import app, fail, spinner

if TYPE_CHECKING:
    from scaleplane.local import platform

local = typer.Typer(
    name="local",
    help=(
        "The embedded platform on this machine: real Prometheus, PostgreSQL (primary + read replicas), "
        "Redis, Celery workers and a sample app on 127.0.0.1, scaled by the same engine as the operator.\n\n"
        "Start with [bold]scaleplane local doctor[/bold], then [bold]scaleplane local up[/bold]; "
        "[bold]scaleplane demo[/bold] does up -> load -> report -> down in one go."
    ),
    no_args_is_help=True,
    rich_markup_mode="rich",
)
app.add_typer(local)

StateDir = Annotated[
    Path,
    typer.Option(
        "--state-dir",
        help="Where servers keep their data, PID files, logs, the decision log and engine state.",
        show_default=True,
        file_okay=False,
    ),
]
Policies = Annotated[
    Path | None,
    typer.Option(
        "--policies",
        help="A ScalingPolicy YAML file or a directory of them (default: the demo's policies, "
        "src/scaleplane/local/policies/). targetRef.kind is WorkerPool, ReadReplicaPool or FunctionPool; "
        "`kind: Function` documents add functions behind the gateway (docs/functions.md).",
    ),
]
Tick = Annotated[float, typer.Option("--tick", help="Seconds between control-loop ticks.", min=0.2, max=600)]
HaDatabase = Annotated[
    bool,
    typer.Option(
        "--ha-database",
        help="Run the database on Patroni with etcd (a leader and a synchronous standby) instead of one "
        "PostgreSQL server: the app writes through a multi-host DSN with target_session_attrs=read-write "
        "and the read replicas join as Patroni members tagged nofailover (docs/local.md). Needs the "
        "Debian packages patroni and etcd-server.",
    ),
]
DEFAULT_STATE = Path(".scaleplane/local")


def _config(
    state_dir: Path, policies: Path | None, tick: float, ha_database: bool = False
) -> platform.PlatformConfig:
    from scaleplane.local import platform, policyfiles

    try:
        return platform.PlatformConfig(
            state_dir=state_dir,
            policies=policies or policyfiles.BUILTIN_DIR,
            tick_seconds=tick,
            ha_database=ha_database,
        )
    except ValueError as exc:
        raise fail(str(exc)) from None


@app.command(
    "demo",
    help=(
        "Run the whole autoscaling loop on this machine, for real, in about 3 minutes: start the platform, "
        "send a flash crowd to the API and a burst of jobs to the queue, watch Prometheus, the engine, "
        "the workers and the read replicas move in a live view, then write a report (Markdown + PNG "
        "plots) and stop everything.\n\nNeeds the Debian packages prometheus, redis-server and postgresql "
        "(`./run demo` installs them as root; `scaleplane local doctor` checks)."
    ),
)
def demo(
    duration: Annotated[
        float | None,
        typer.Option(
            "--duration", help="Seconds of load (the profile is stretched or squeezed to fit).", min=20
        ),
    ] = None,
    profile: Annotated[
        str, typer.Option("--profile", help="Load shape: flash-crowd, jobs, or short (for tests).")
    ] = "flash-crowd",
    report: Annotated[
        Path | None,
        typer.Option(
            "--report", help="Directory for the report (default: <state-dir>/report).", file_okay=False
        ),
    ] = None,
    state_dir: StateDir = DEFAULT_STATE,
    policies: Policies = None,
    tick: Tick = 5.0,
    live: Annotated[
        bool | None,
        typer.Option(
            "--live/--no-live",
            help="Live terminal view (off: one line per tick). Default: on when the output is a "
            "terminal, off in a pipe or a log, which would get only the view's last frame.",
            show_default=False,
        ),
    ] = None,
    ha_database: HaDatabase = False,
) -> None:
    from scaleplane.local import platform, policyfiles
    from scaleplane.local.demo import profiles
    from scaleplane.local.demo import running as running_demo

    try:
        load = profiles.get(profile)
        if duration is not None:
            load = load.scaled(duration)
    except ValueError as exc:
        raise fail(f"--profile/--duration: {exc}") from None
    config = _config(state_dir, policies, tick, ha_database)
    try:
        result = running_demo.run(config, load, report_dir=report or state_dir / "report", live=live)
    except (platform.PlatformError, policyfiles.PolicyFileError) as exc:
        raise fail(str(exc)) from None
    except running_demo.Interrupted as exc:
        raise fail(str(exc), code=130) from None
    except KeyboardInterrupt:  # during the start, before the signal handlers were in place
        raise fail("interrupted; every process of the platform was stopped", code=130) from None
    typer.echo(f"report: {result}")


@local.command("up", help="Start the platform and its control loop (in the background unless --foreground).")
def up(
    state_dir: StateDir = DEFAULT_STATE,
    policies: Policies = None,
    tick: Tick = 5.0,
    foreground: Annotated[
        bool, typer.Option("--foreground", help="Run in this terminal until Ctrl-C (which stops everything).")
    ] = False,
    ha_database: HaDatabase = False,
) -> None:
    import asyncio

    from scaleplane.local import platform, policyfiles, runfiles, serving

    config = _config(state_dir, policies, tick, ha_database)
    holder = runfiles.supervisor(config.state_dir.resolve())
    if holder is not None:
        raise fail(
            f"a local platform already runs from {config.state_dir} (controller pid {holder.pid}): "
            "`scaleplane local status` shows it, `scaleplane local down` stops it"
        )
    try:
        platform.load_policies(config.policies)  # fail here, not in the background process
        if foreground:

            def ready(running: platform.Platform) -> None:
                typer.echo(_summary(runfiles.read_platform(running.state_dir)))
                for note in running.progress.notes:
                    typer.echo(f"  {note}")

            asyncio.run(serving.serve(config, ready))
            typer.echo("stopped; no process of the platform is left")
        else:
            info = serving.spawn_detached(config)
            typer.echo(_summary(info))
            typer.echo("stop it with: scaleplane local down" + _state_flag(state_dir))
    except (platform.PlatformError, policyfiles.PolicyFileError) as exc:
        raise fail(str(exc)) from None


def _state_flag(state_dir: Path) -> str:
    return "" if state_dir == DEFAULT_STATE else f" --state-dir {state_dir}"


def _summary(info: dict[str, object] | None) -> str:
    if not info:
        return "the platform is up"
    lines = [f"local platform running (controller pid {info.get('pid')}, tick {info.get('tickSeconds')} s)"]
    for key in ("app", "prometheus", "controllerMetrics", "postgres", "redis", "gateway"):
        lines.append(f"  {key:<18} {info.get(key)}")
    for name, target in dict(info.get("policies") or {}).items():  # type: ignore[call-overload]
        lines.append(f"  policy {name:<11} -> {target}")
    return "\n".join(lines)


@local.command("status", help="What runs now: servers, pools (ready/asked), the last decisions.")
def status(
    state_dir: StateDir = DEFAULT_STATE,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object instead of text.")] = False,
) -> None:
    from scaleplane.local import inspecting

    report = inspecting.collect(state_dir.resolve())
    typer.echo(json.dumps(report, indent=2) if as_json else inspecting.render(report))
    if report["state"] == "leftovers":
        raise typer.Exit(1)


@local.command("down", help="Stop the platform: pools drain, servers stop, leftovers of a crash are ended.")
def down(state_dir: StateDir = DEFAULT_STATE) -> None:
    from scaleplane.local import runfiles

    resolved = state_dir.resolve()
    holder = runfiles.supervisor(resolved)
    if holder is not None:
        typer.echo(f"stopping the controller (pid {holder.pid}); pools drain first, this can take a minute")
        with spinner("waiting for the pools to drain and the servers to stop"):
            stopped = runfiles.end_pid(holder.pid, grace=150)
        if not stopped:
            typer.echo("the controller did not stop in time and was killed; ending what it left")
    ended = runfiles.end_leftovers(resolved)
    if ended:
        typer.echo("ended leftovers: " + ", ".join(f"{r.name} ({r.pid})" for r in ended))
    live = runfiles.live_records(resolved)
    if live:
        raise fail("still running: " + ", ".join(f"{r.name} ({r.pid})" for r in live))
    typer.echo("stopped; no process of the platform is left" if holder or ended else "nothing was running")


@local.command("doctor", help="Check this machine: binaries and versions, state dir, free ports, leftovers.")
def doctor(state_dir: StateDir = DEFAULT_STATE) -> None:
    from rich.console import Console
    from rich.table import Table

    from scaleplane.local import checks

    results = checks.run(state_dir)
    table = Table(title="scaleplane local doctor", show_lines=False)
    for header in ("check", "", "detail", "fix"):  # fold, never "…": a port or a path stays whole
        table.add_column(header, overflow="fold")
    for check in results:
        table.add_row(check.name, "[green]ok[/]" if check.ok else "[red]FAIL[/]", check.detail, check.fix)
    Console().print(table)
    if not all(check.ok for check in results):
        raise typer.Exit(1)
