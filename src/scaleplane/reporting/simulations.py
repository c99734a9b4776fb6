"""The report of `scaleplane simulate --report DIR`: simulate.md with a table and simulate.png.

The plot has two panels over the trace's time: demand against each run's ready capacity (where the
capacity line dips under the demand, the SLO was violated), and each run's billed replicas against the
oracle's. A long timeline is drawn from at most about `thinnings.PLOT_POINTS` ticks (where the series
change, else each bucket's extremes: `scaling` runs of a ten-year gap are two points, never one per tick).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from scaleplane.reporting import markdown, plots, thinnings
from scaleplane.scaling.simulating import simulation

MARKDOWN_NAME = "simulate.md"
PLOT_NAME = "simulate.png"


def summary_rows(outcomes: Sequence[simulation.Outcome]) -> list[list[object]]:
    rows: list[list[object]] = []
    for outcome in outcomes:
        summary = outcome.summary()
        ratio = summary["oracle_ratio"]
        rows.append(
            [
                outcome.name,
                markdown.number(outcome.replica_hours),
                markdown.number(outcome.oracle.replica_hours),
                "-" if ratio is None else f"{ratio:.2f}x",
                markdown.number(outcome.slo_violation_minutes),
                markdown.number(outcome.shortfall_minutes),
                outcome.scale_events,
                outcome.peak_replicas,
                f"{100 * outcome.overload_work_fraction:.2f}%",
            ]
        )
    return rows


HEADERS = (
    "run",
    "replica-hours",
    "oracle replica-hours",
    "ratio to oracle",
    "SLO-violation minutes",
    "shortfall minutes",
    "scale events",
    "peak replicas",
    "work above capacity",
)
SHORT_HEADERS = (
    "run",
    "replica-h",
    "oracle-h",
    "ratio",
    "SLO min",
    "short",  # shortfall minutes (docs/simulate.md): short, so the table fits 80 columns
    "events",
    "peak",
    "overload",
)


def plot(
    path: Path,
    outcomes: Sequence[simulation.Outcome],
    model: simulation.TargetModel,
    *,
    unit: str,
    title: str,
) -> Path:
    first = outcomes[0].timeline
    columns: list[Sequence[float]] = [first.demand, outcomes[0].oracle.billed]
    for outcome in outcomes:
        columns += [outcome.timeline.ready, outcome.timeline.replicas]
    keep = thinnings.thinned(columns)
    load = [plots.Series("demand", thinnings.picked(first.demand, keep), color="C0")]
    replicas: list[plots.Series] = []
    for index, outcome in enumerate(outcomes, start=1):
        capacity = [r * model.capacity_per_replica for r in thinnings.picked(outcome.timeline.ready, keep)]
        color = f"C{index}"
        load.append(plots.Series(f"{outcome.name}: ready capacity", capacity, step=True, color=color))
        billed = thinnings.picked(outcome.timeline.replicas, keep)
        replicas.append(plots.Series(f"{outcome.name}: replicas", billed, step=True, color=color))
    oracle_billed = thinnings.picked(outcomes[0].oracle.billed, keep)
    replicas.append(plots.Series("oracle: replicas", oracle_billed, step=True, style=":", color="black"))
    return plots.timeline(
        path,
        thinnings.picked(first.at, keep),
        [
            plots.Panel("demand and ready capacity", unit, load),
            plots.Panel("replicas billed", "replicas", replicas),
        ],
        title=title,
    )


def write(
    directory: Path,
    outcomes: Sequence[simulation.Outcome],
    *,
    trace_name: str,
    unit: str,
    model: simulation.TargetModel,
    tick_seconds: float,
    command: str,
) -> Path:
    """Write simulate.md and simulate.png into `directory` (created if missing); return the Markdown path."""
    if not outcomes:
        raise ValueError("a simulation report needs at least one run")
    directory.mkdir(parents=True, exist_ok=True)
    plot(directory / PLOT_NAME, outcomes, model, unit=unit, title=f"scaleplane simulate: {trace_name}")
    timeline = outcomes[0].timeline
    text = [
        f"# Simulation: {trace_name}\n",
        f"Command: `{command}`\n",
        f"- trace: {trace_name}, {len(timeline.at)} ticks of {tick_seconds:g} s "
        f"({len(timeline.at) * tick_seconds / 60:.1f} minutes), demand in {unit}",
        f"- target model: {model.capacity_per_replica:g} {unit} per ready replica, ready "
        f"{model.startup_seconds:g} s after it is requested, queueing "
        f"{'on' if model.queueing else 'off'}, rate window {model.rate_window_seconds:g} s\n",
        markdown.table(HEADERS, summary_rows(outcomes)),
        "The oracle spends the fewest replica-hours any autoscaler could with perfect knowledge of the "
        "future, the same start-up delay and the same bounds; SLO-violation minutes count the minutes whose "
        "latency quantile broke the objective, shortfall minutes the ticks whose work exceeded the ready "
        "capacity (definitions: docs/simulate.md).\n",
        f"![demand, ready capacity and replicas]({PLOT_NAME})\n",
    ]
    for outcome in outcomes:
        reasons = ", ".join(f"{k} {v}" for k, v in sorted(outcome.reasons.items()))
        text.append(f"- {outcome.name}: decisions by reason: {reasons or 'none'}")
    path = directory / MARKDOWN_NAME
    path.write_text("\n".join(text) + "\n")
    return path
