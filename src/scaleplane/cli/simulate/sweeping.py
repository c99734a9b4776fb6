"""`scaleplane simulate --frontier`: every family swept over its targets, in worker processes.

The runs are independent, so they go to a process pool (one worker per CPU by default): the engine is
pure Python and one process would use one core. The oracle is computed once per lower bound in the
parent and handed to the workers with the trace. The frontiers and the comparison are
`scaling.simulating.frontiers`; the report is `reporting.frontiers`.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any, cast

import typer

from scaleplane.cli.app import fail
from scaleplane.scaling.simulating import frontiers, latencies, oracle, runlengths, simulation

_SHARED: dict[str, Any] = {}  # what every run of one sweep needs, set once per worker


def _share(shared: dict[str, Any]) -> None:
    _SHARED.update(shared)


def _run(family: str, target: float) -> frontiers.Point:
    s = _SHARED
    preset = frontiers.preset_for(
        family, s["model"], target, min_replicas=s["min_replicas"], max_replicas=s["max_replicas"]
    )
    outcome = simulation.simulate(
        preset.spec,
        s["demand"],
        model=s["model"],
        tick_seconds=s["tick"],
        sync_seconds=preset.sync_seconds,
        start=s["start"],
        name=family,
        slo=s["slo"],
        best=s["oracles"][preset.spec.min_replicas],
    )
    return frontiers.Point(
        family=family,
        target=target,
        replica_hours=outcome.replica_hours,
        slo_violation_minutes=outcome.slo_violation_minutes,
        shortfall_minutes=outcome.shortfall_minutes,
        scale_events=outcome.scale_events,
    )


def parse_targets(text: str, hpa_target: float) -> list[float]:
    try:
        values = sorted({round(float(v), 6) for v in text.split(",") if v.strip()})
    except ValueError:
        raise fail(f"--targets: expected comma-separated fractions such as 0.5,0.8, was {text!r}") from None
    bad = [v for v in values if not 0 < v <= 1]
    if not values or bad:
        raise fail(f"--targets: every target must be in (0, 1], was {text!r}")
    if not 0 < hpa_target <= 1:
        raise fail(f"--hpa-target: must be in (0, 1], was {hpa_target!r}")
    return values


def frontier_of(
    demand: Sequence[float] | runlengths.Runs,
    *,
    start: float,
    model: simulation.TargetModel,
    slo: latencies.LatencyObjective,
    tick: float,
    grid: list[float],
    hpa_target: float,
    min_replicas: int,
    max_replicas: int,
    jobs: int,
    show: bool = False,
) -> tuple[frontiers.Comparison, list[frontiers.Point]]:
    """Every family over `grid` (plus the HPA at `hpa_target`), compared; the sweep behind --frontier."""
    lag = model.startup_ticks(tick)
    lows = {max(1, min_replicas), 0}  # the HPA and scaleplane run with >= 1, KEDA with 0
    oracles = {
        low: _plan(
            demand,
            capacity_per_replica=model.capacity_per_replica,
            startup_ticks=lag,
            tick_seconds=tick,
            min_replicas=low,
            max_replicas=max_replicas,
        )
        for low in lows
    }
    shared = {
        "demand": demand,
        "model": model,
        "slo": slo,
        "tick": tick,
        "start": start,
        "min_replicas": min_replicas,
        "max_replicas": max_replicas,
        "oracles": oracles,
    }
    runs = [(f, t) for f in frontiers.FAMILIES for t in grid]
    if not any(abs(t - hpa_target) < 1e-9 for t in grid):
        runs.append(("hpa", hpa_target))
    # Never more workers than runs: each is a forked copy of this process.
    points = _sweep(runs, shared, min(jobs or os.cpu_count() or 1, len(runs)), show=show)
    comparison = frontiers.compare(
        points, oracle_replica_hours=oracles[max(1, min_replicas)].replica_hours, hpa_target=hpa_target
    )
    return comparison, points


def _plan(demand: Sequence[float] | runlengths.Runs, **bounds: Any) -> oracle.OraclePlan:
    """The oracle every run of the sweep shares: on runs, its per-tick counts kept as run views."""
    if not isinstance(demand, runlengths.Runs):
        return oracle.plan(demand, **bounds)
    planned = oracle.plan_runs(demand, **bounds)
    return oracle.OraclePlan(
        replica_hours=planned.replica_hours,
        slo_violation_minutes=planned.slo_violation_minutes,
        scale_events=planned.scale_events,
        billed=cast(Sequence[int], runlengths.Ticks(planned.billed)),
        ready=cast(Sequence[int], runlengths.Ticks(planned.ready)),
    )


def run_frontier(
    *,
    trace: Path,
    demand: runlengths.Runs,
    demand_trace: Any,
    model: simulation.TargetModel,
    slo: latencies.LatencyObjective,
    tick: float,
    targets: str,
    hpa_target: float,
    min_replicas: int,
    max_replicas: int | None,
    jobs: int,
    report: Path | None,
    as_json: bool,
    budget: float | None = None,
) -> None:
    grid = parse_targets(targets, hpa_target)
    if not 0 <= jobs <= MAX_JOBS:
        raise fail(f"--jobs: must be 0 (one per CPU) to {MAX_JOBS}, was {jobs}")
    highest = max_replicas or frontiers.sweep_bound(demand.values, model.capacity_per_replica, grid)
    if not 0 <= min_replicas <= highest:
        raise fail(f"--min-replicas: need 0 <= min <= max ({highest}), was {min_replicas}")
    comparison, points = frontier_of(
        demand,
        start=demand_trace.start,
        model=model,
        slo=slo,
        tick=tick,
        grid=grid,
        hpa_target=hpa_target,
        min_replicas=min_replicas,
        max_replicas=highest,
        jobs=jobs,
        show=not as_json,
    )
    result = comparison.public() | {
        "trace": str(trace),
        "ticks": demand.ticks,
        "tick_seconds": tick,
        "targets": grid,
        "hpa_target": hpa_target,
        "max_replicas": highest,
        "model": model.as_dict(),
        "slo": slo.as_dict(),
        "sweep": [
            {
                "family": p.family,
                "target": p.target,
                "replica_hours": round(p.replica_hours, 4),
                "slo_violation_minutes": round(p.slo_violation_minutes, 4),
                "shortfall_minutes": round(p.shortfall_minutes, 4),
                "scale_events": p.scale_events,
            }
            for p in sorted(points, key=lambda p: (frontiers.FAMILIES.index(p.family), p.target))
        ],
    }
    promises = frontiers.promises(comparison, points)
    result["promises"] = promises.public()
    view = None if budget is None else frontiers.at_budget(comparison, budget)
    if view is not None:
        result["at_slo_budget"] = view.public()
    if report is not None:
        from scaleplane.reporting import frontiers as frontier_report

        try:
            frontier_report.write(
                report,
                comparison,
                points,
                trace_name=trace.name,
                command="scaleplane " + shlex.join(sys.argv[1:]),
                budget=view,
                promises=promises,
            )
        except OSError as exc:
            raise fail(f"--report: cannot write into {report}: {exc}") from None
    if as_json:
        typer.echo(json.dumps(result))
    else:
        _print(comparison, promises, trace, demand.ticks, report, view)


MAX_JOBS = 64  # worker processes; a sweep has 48 runs by default, and each worker is a whole process
COST_RANK = {"forecast": 0, "scaleplane": 1, "hpa": 2, "keda": 3}  # KEDA decides every 30 s, not 15


def _sweep(
    runs: list[tuple[str, float]], shared: dict[str, Any], workers: int, *, show: bool
) -> list[frontiers.Point]:
    if workers <= 1:
        _share(shared)
        return [_run(f, t) for f, t in runs]
    with ProcessPoolExecutor(max_workers=workers, initializer=_share, initargs=(shared,)) as pool:
        # the dearest runs first (the forecast's cost about twice the others'), so no worker is left
        # with a long run while the others are idle; the points come back in the runs' order
        order = sorted(range(len(runs)), key=lambda i: COST_RANK.get(runs[i][0], 0))
        submitted = {i: pool.submit(_run, *runs[i]) for i in order}
        futures = [submitted[i] for i in range(len(runs))]
        if not (show and sys.stderr.isatty()):
            return [f.result() for f in futures]
        from rich.console import Console
        from rich.progress import Progress

        with Progress(console=Console(stderr=True), transient=True) as progress:
            task = progress.add_task(f"sweeping {len(runs)} runs", total=len(runs))
            for _ in as_completed(futures):
                progress.advance(task)
        return [f.result() for f in futures]


def _print(
    comparison: frontiers.Comparison,
    promises: frontiers.Promises,
    trace: Path,
    ticks: int,
    report: Path | None,
    view: frontiers.AtBudget | None,
) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(
        title=f"{trace}: {ticks} ticks; at the HPA default's SLO level "
        f"({comparison.level:g} SLO-violation minutes at target {comparison.hpa_default.target:g})"
    )
    for header in ("family", "replica-h at that SLO", "frontier points", "best SLO min"):
        table.add_column(header, justify="left" if header == "family" else "right")
    for family in frontiers.FAMILIES:
        hours = comparison.at_level[family]
        frontier = comparison.frontiers[family]
        table.add_row(
            family,
            "not reached" if hours is None else f"{hours:.2f}",
            str(len(frontier)),
            f"{frontier[0].slo_violation_minutes:g}" if frontier else "-",
        )
    table.add_row("oracle", f"{comparison.oracle_replica_hours:.2f}", "", "")
    console = Console()
    console.print(table)
    gap = comparison.gap_closed
    console.print(f"gap closed by scaleplane: {'-' if gap is None else f'{gap:.2f}'}")
    from scaleplane.reporting import frontiers as frontier_report

    for sentence in frontier_report.promise_sentences(promises):
        console.print(sentence, highlight=False)
    if view is not None:
        console.print(_budget_table(view))
        console.print(f"cheapest at your SLO budget: {view.cheapest or 'none of them reaches it'}")
    if report is not None:
        console.print(f"report: {report / 'frontier.md'}")


def _budget_table(view: frontiers.AtBudget) -> Any:
    from rich.table import Table

    table = Table(title=f"at your SLO budget ({view.slo_violation_minutes:g} SLO-violation minutes)")
    for header in ("family", "replica-h at that SLO", "vs the HPA"):
        table.add_column(header, justify="left" if header == "family" else "right")
    hpa = view.hours.get("hpa")
    for family in frontiers.FAMILIES:
        hours = view.hours.get(family)
        versus = "" if family == "hpa" else "-" if hours is None or not hpa else f"{hours / hpa - 1:+.1%}"
        table.add_row(family, "not reached" if hours is None else f"{hours:.2f}", versus)
    table.add_row("oracle", f"{view.oracle_replica_hours:.2f}", "")
    return table
