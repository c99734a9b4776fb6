"""`scaleplane simulate`: replay a load trace through the real engine, against a baseline and the oracle.

The command only opens files and prints: parsing, simulation and the oracle are in `scaleplane.scaling`
(pure), the report in `scaleplane.reporting`. Every bad input ends with `error: ...` and exit code 2.
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from scaleplane.cli.app import app, fail
from scaleplane.cli.simulate import inputs, outputs

if TYPE_CHECKING:
    from scaleplane.scaling import specs
    from scaleplane.scaling.simulating import runlengths, simulation

PROGRESS_FROM_TICKS = 2000  # shorter runs finish before a bar is worth drawing


class Baseline(StrEnum):
    hpa = "hpa"
    keda = "keda"


HELP = """Replay a demand trace through the scaling engine and report replica-hours, SLO-violation minutes,
scale events and the oracle (the least replica-hours any autoscaler could spend knowing the future).

The trace is a `t,demand` CSV (seconds, work units/s) or a request log with a TIMESTAMP column (one row
per request, counted into ticks). Without --policy, scaleplane's recommended policy runs: demand held at
80% of a replica's capacity, minReplicas 1, maxReplicas 100. The default target model: 0.25 work units/s
per replica, ready 60 s after it is requested, unserved work waits in a FIFO queue. The SLO is a latency
objective: p95 under 100 ms (50 ms of service plus the queue's wait) over each minute; the per-tick
shortfall (minutes with a tick short of capacity) is reported next to it. Definitions: docs/simulate.md.
"""


@app.command("simulate", help=HELP)
def simulate(
    trace: Annotated[Path, typer.Option("--trace", help="A `t,demand` CSV or a request log (TIMESTAMP).")],
    policy: Annotated[
        Path | None,
        typer.Option("--policy", help="A ScalingPolicy YAML (manifest or bare spec). Default: recommended."),
    ] = None,
    baseline: Annotated[
        Baseline | None,
        typer.Option("--baseline", help="Also run the HPA or KEDA defaults on the same metric."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object, nothing else.")] = False,
    report: Annotated[
        Path | None,
        typer.Option(
            "--report", help="Write simulate.md and simulate.png into this folder.", file_okay=False
        ),
    ] = None,
    capacity: Annotated[float, typer.Option(help="Work units per second one ready replica serves.")] = 0.25,
    startup: Annotated[float, typer.Option(help="Seconds from requesting a replica to it serving.")] = 60.0,
    queueing: Annotated[
        bool,
        typer.Option(help="Unserved work waits in a FIFO queue (served later) instead of being dropped."),
    ] = True,
    tick: Annotated[float, typer.Option(help="Simulation tick and request-log bucket, seconds.")] = 15.0,
    rate_window: Annotated[
        float | None,
        typer.Option(
            help="Window of the rate() the demand metric reads, s (default: 60, or one tick if longer)."
        ),
    ] = None,
    weight: Annotated[
        list[str] | None,
        typer.Option(help="Request-log column(s) whose sum is a request's work (e.g. tokens); repeatable."),
    ] = None,
    signal: Annotated[
        list[str] | None,
        typer.Option(help="METRIC=demand|backlog: what a policy metric reads (default: by its name/query)."),
    ] = None,
    timeline: Annotated[
        Path | None,
        typer.Option(
            "--timeline",
            help="Write the per-tick series (demand, replicas, ready, backlog, the oracle's) as CSV.",
            dir_okay=False,
        ),
    ] = None,
    min_replicas: Annotated[int, typer.Option(help="minReplicas of the default policy.")] = 1,
    max_replicas: Annotated[
        int,
        typer.Option(
            help="maxReplicas of the default policy (--frontier: left at 100, twice what the peak needs at "
            "the lowest target, so no target is capped)."
        ),
    ] = 100,
    slo_latency: Annotated[
        float, typer.Option(help="Latency objective, s: the SLO quantile of each window is under it.")
    ] = 0.1,
    slo_quantile: Annotated[float, typer.Option(help="SLO quantile of the latency (0.95: p95).")] = 0.95,
    slo_window: Annotated[
        float | None,
        typer.Option(
            help="SLO window, s: each one meets the objective or not. "
            "[default: 60, or one tick when --tick is longer]",
            show_default=False,
        ),
    ] = None,
    service_time: Annotated[
        float, typer.Option(help="Seconds one work unit takes on a replica, before any wait in the queue.")
    ] = 0.05,
    frontier: Annotated[
        bool,
        typer.Option(
            "--frontier",
            help="Sweep each family's target (HPA, KEDA, recommended, forecast) and compare the cost-SLO "
            "frontiers instead of one run (not with --policy or --baseline): replica-hours at the HPA "
            "default's SLO level, the SLO levels where scaleplane's frontier is above the HPA's or "
            "KEDA's, and whether the recommended preset dominates the HPA default.",
        ),
    ] = False,
    targets: Annotated[
        str, typer.Option(help="--frontier: the targets swept, as fractions of a replica's capacity.")
    ] = "0.40,0.45,0.50,0.55,0.60,0.65,0.70,0.75,0.80,0.85,0.90,0.95",
    hpa_target: Annotated[
        float,
        typer.Option(help="--frontier: the HPA default's usual target, whose SLO level is compared at."),
    ] = 0.8,
    jobs: Annotated[int, typer.Option(help="--frontier: worker processes (0: one per CPU).")] = 0,
    slo_budget: Annotated[
        str | None,
        typer.Option(
            metavar="MINUTES|SHARE%",
            help="--frontier: also compare at your SLO's budget of violation minutes over the trace, "
            "as minutes (12) or a share of the trace's minutes (0.1% for 99.9% of minutes good), and "
            "name the family cheapest there.",
        ),
    ] = None,
) -> None:
    from scaleplane.scaling.simulating import presets, resampling, traces

    model = inputs.target_model(capacity, startup, queueing, tick, rate_window)
    slo = inputs.objective(slo_latency, slo_quantile, slo_window, service_time, tick)
    signals = inputs.signals(signal or [])
    demand_trace = inputs.read_trace(trace, tick, weight or [])
    try:
        demand = resampling.resample_runs(demand_trace, tick)  # a gap of zeros is one run, end to end
    except traces.TraceError as exc:
        raise fail(str(exc)) from None
    if not demand.ticks:
        raise fail(f"{trace}: shorter than one tick of {tick:g} s: nothing to simulate")
    if slo_budget is not None and not frontier:
        raise fail("--slo-budget compares frontiers: add --frontier")
    budget = inputs.slo_budget(slo_budget, demand.ticks * tick / 60)
    if frontier:
        from scaleplane.cli.simulate import sweeping

        if policy is not None or baseline is not None:
            raise fail("--frontier sweeps the four preset families: --policy and --baseline do not apply")

        sweeping.run_frontier(
            trace=trace,
            demand=demand,
            demand_trace=demand_trace,
            model=model,
            slo=slo,
            tick=tick,
            targets=targets,
            hpa_target=hpa_target,
            min_replicas=min_replicas,
            max_replicas=None if max_replicas == 100 else max_replicas,
            jobs=jobs,
            report=report,
            as_json=as_json,
            budget=budget,
        )
        return
    if policy is None:
        if not 0 <= min_replicas <= max_replicas or max_replicas < 1:
            raise fail(
                "--min-replicas/--max-replicas: need 0 <= min <= max and max >= 1, "
                f"was {min_replicas}/{max_replicas}"
            )
        spec = presets.recommended(model, min_replicas=min_replicas, max_replicas=max_replicas)
        policy_name = "recommended"
    else:
        spec = inputs.read_policy(policy)
        policy_name = policy.stem
    inputs.warn_about_wiring(spec, signals, model)
    runs = [(policy_name, spec, presets.HPA_SYNC_SECONDS)]
    if baseline is not None:
        preset = presets.hpa_default(spec) if baseline is Baseline.hpa else presets.keda_default(spec)
        runs.append((preset.name, preset.spec, preset.sync_seconds))
    outcomes = _run_all(runs, demand, model, slo, demand_trace.start, tick, signals, show=not as_json)
    result = outcomes[0].summary()
    result |= {
        "trace": str(trace),
        "ticks": demand.ticks,
        "tick_seconds": tick,
        "unit": demand_trace.unit,
        "model": model.as_dict(),
        "slo": slo.as_dict(),
    }
    if len(outcomes) > 1:
        result["baseline"] = outcomes[1].summary()
    if report is not None:
        outputs.write_report(report, outcomes, demand_trace, model, tick)
    if timeline is not None:
        try:
            outputs.write_timeline(timeline, outcomes)
        except OSError as exc:
            raise fail(f"--timeline: cannot write {timeline} ({exc.strerror or exc})") from None
    if as_json:
        typer.echo(json.dumps(result))
    else:
        outputs.print_table(result, outcomes, report)


def _run_all(
    runs: list[tuple[str, specs.ScalingPolicySpec, float]],
    demand: runlengths.Runs,
    model: simulation.TargetModel,
    slo: Any,
    start: float,
    tick: float,
    signals: dict[str, str],
    *,
    show: bool,
) -> list[simulation.Outcome]:
    from scaleplane.scaling.simulating import simulation

    def one(name: str, spec: specs.ScalingPolicySpec, sync: float, on_tick: Any) -> simulation.Outcome:
        try:
            return simulation.simulate(
                spec,
                demand,
                model=model,
                tick_seconds=tick,
                sync_seconds=sync,
                start=start,
                name=name,
                signals=signals,
                on_tick=on_tick,
                slo=slo,
            )
        except ValueError as exc:  # e.g. a --signal naming an unknown kind
            raise fail(f"{name}: {exc}") from None

    if not (show and sys.stderr.isatty() and demand.ticks >= PROGRESS_FROM_TICKS):
        return [one(name, spec, sync, None) for name, spec, sync in runs]
    from rich.console import Console
    from rich.progress import Progress

    outcomes = []
    with Progress(console=Console(stderr=True), transient=True) as progress:
        for name, spec, sync in runs:
            task = progress.add_task(f"simulating {name}", total=demand.ticks)

            def advance(done: int, total: int, task: Any = task) -> None:
                if done % 100 == 0 or done == total:
                    progress.update(task, completed=done)

            outcomes.append(one(name, spec, sync, advance))
    return outcomes
