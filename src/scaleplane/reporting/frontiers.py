"""The report of `scaleplane simulate --frontier --report DIR`: frontier.md (tables) and frontier.png.

The plot puts every run of the sweep at (SLO-violation minutes, replica-hours), one colour per family,
joins each family's Pareto frontier, draws the oracle as a horizontal line and marks the HPA default at
its usual target and the SLO level everything is compared at.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from scaleplane.reporting import markdown
from scaleplane.scaling.simulating import frontiers

MARKDOWN_NAME = "frontier.md"
PLOT_NAME = "frontier.png"


def plot(
    path: Path,
    comparison: frontiers.Comparison,
    points: Sequence[frontiers.Point],
    *,
    title: str,
    budget: frontiers.AtBudget | None = None,
) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    figure, axis = pyplot.subplots(figsize=(9.0, 5.5))
    try:
        for index, family in enumerate(frontiers.FAMILIES):
            color = f"C{index}"
            mine = [p for p in points if p.family == family]
            axis.scatter(
                [p.slo_violation_minutes for p in mine],
                [p.replica_hours for p in mine],
                s=14,
                color=color,
                alpha=0.5,
            )
            line = comparison.frontiers[family]
            axis.plot(
                [p.slo_violation_minutes for p in line],
                [p.replica_hours for p in line],
                marker="o",
                color=color,
                label=f"{family} frontier",
            )
        axis.axhline(comparison.oracle_replica_hours, color="black", linestyle=":", label="oracle")
        axis.axvline(comparison.level, color="grey", linestyle="--", linewidth=0.8)
        if budget is not None:
            axis.axvline(
                budget.slo_violation_minutes,
                color="C4",  # C0-C3 are the families
                linestyle="-.",
                linewidth=0.8,
                label=f"your SLO budget ({budget.slo_violation_minutes:g} min)",
            )
        default = comparison.hpa_default
        axis.scatter(
            [default.slo_violation_minutes],
            [default.replica_hours],
            marker="*",
            s=160,
            color="C0",
            edgecolor="black",
            zorder=5,
            label=f"HPA default (target {default.target:g})",
        )
        axis.set_xlabel("SLO-violation minutes")
        axis.set_ylabel("replica-hours")
        axis.set_title(title)
        axis.legend(loc="upper right", fontsize="small")
        axis.grid(alpha=0.3)
        figure.tight_layout()
        figure.savefig(path, dpi=110)
    finally:
        pyplot.close(figure)
    return path


def write(
    directory: Path,
    comparison: frontiers.Comparison,
    points: Sequence[frontiers.Point],
    *,
    trace_name: str,
    command: str,
    budget: frontiers.AtBudget | None = None,
    promises: frontiers.Promises | None = None,
) -> Path:
    """Write frontier.md and frontier.png into `directory` (created if missing); return the Markdown path."""
    directory.mkdir(parents=True, exist_ok=True)
    plot(directory / PLOT_NAME, comparison, points, title=f"cost-SLO frontiers: {trace_name}", budget=budget)
    at = [[family, markdown.number(comparison.at_level[family])] for family in frontiers.FAMILIES]
    at.append(["oracle", markdown.number(comparison.oracle_replica_hours)])
    sweep = [
        [
            p.family,
            f"{p.target:g}",
            markdown.number(p.replica_hours),
            markdown.number(p.slo_violation_minutes),
            markdown.number(p.shortfall_minutes),
            p.scale_events,
            "yes" if p in comparison.frontiers[p.family] else "",
        ]
        for p in sorted(points, key=lambda p: (frontiers.FAMILIES.index(p.family), p.target))
    ]
    gap = comparison.gap_closed
    text = [
        f"# Cost-SLO frontiers: {trace_name}\n",
        f"Command: `{command}`\n",
        f"The HPA default at target {comparison.hpa_default.target:g} has {comparison.level:g} SLO-violation "
        f"minutes and {comparison.hpa_default.replica_hours:.2f} replica-hours. At that SLO level, the "
        "replica-hours each family needs (interpolated on its frontier; 'not reached' when none of its "
        "targets gets there):\n",
        markdown.table(["family", "replica-hours"], at),
        f"Share of the HPA-to-oracle gap scaleplane closes: {'-' if gap is None else f'{gap:.2f}'}.\n",
        *([" ".join(promise_sentences(promises)) + "\n"] if promises is not None else []),
        *_budget_section(budget),
        f"![frontiers]({PLOT_NAME})\n",
        "Every run (definitions: docs/simulate.md):\n",
        markdown.table(
            ["family", "target", "replica-hours", "SLO min", "shortfall min", "scale events", "on frontier"],
            sweep,
        ),
    ]
    path = directory / MARKDOWN_NAME
    path.write_text("\n".join(text) + "\n")
    return path


def _budget_section(budget: frontiers.AtBudget | None) -> list[str]:
    """The --slo-budget reading: every family at the user's budget, and the cheapest there."""
    if budget is None:
        return []
    rows = [[family, markdown.number(budget.hours.get(family))] for family in frontiers.FAMILIES]
    rows.append(["oracle", markdown.number(budget.oracle_replica_hours)])
    return [
        f"At your SLO budget of {budget.slo_violation_minutes:g} SLO-violation minutes, the replica-hours "
        "each family needs (-: none of its targets gets there):\n",
        markdown.table(["family", "replica-hours"], rows),
        f"Cheapest there: {budget.cheapest or 'none of the families reaches it'}.\n",
    ]


def promise_sentences(promises: frontiers.Promises) -> list[str]:
    """The two checks in words: where scaleplane's frontier is above a baseline's, and the dominance."""

    def minutes(levels: list[float]) -> str:
        return ", ".join(f"{level:g}" for level in levels)

    best = promises.best_minutes
    reached = {
        f: [v for v in levels if best is not None and v >= best] for f, levels in promises.above.items()
    }
    unreached = sorted({v for levels in promises.above.values() for v in levels if best is None or v < best})
    if promises.frontier_at_or_below:
        first = "scaleplane's frontier is at or below the HPA's and KEDA's at every SLO level they reach."
    else:
        where = [f"{'the HPA' if f == 'hpa' else 'KEDA'}'s at {minutes(v)}" for f, v in reached.items() if v]
        said = (
            [f"needs more replica-hours than {' and than '.join(where)} SLO-violation minutes"]
            if where
            else []
        )
        if unreached:
            said.append(f"does not reach {minutes(unreached)} SLO-violation minutes, which a baseline does")
        first = (
            f"scaleplane's frontier {'; it '.join(said)}: the frontiers cross, so read them at your own SLO "
            "(--slo-budget)."
        )
    mine, default = promises.recommended, promises.hpa_default
    if mine is None:
        return [first, "The sweep has no run of the recommended preset's target, so it is not compared."]
    theirs = f"the HPA default ({default.replica_hours:.2f} and {default.slo_violation_minutes:g})"
    own = (
        f"The recommended preset (target {mine.target:g}), {mine.replica_hours:.2f} replica-hours and "
        f"{mine.slo_violation_minutes:g} SLO-violation minutes,"
    )
    if promises.dominates:
        return [first, f"{own} Pareto-dominates {theirs}."]
    dearer = mine.replica_hours > default.replica_hours
    worse = mine.slo_violation_minutes > default.slo_violation_minutes
    if dearer and worse:
        how = "spends more and violates more"
    elif dearer:
        how = "violates no more but spends more"
    else:
        cheaper = mine.replica_hours < default.replica_hours
        how = f"spends {'less' if cheaper else 'no more'} but violates more"
    return [first, f"{own} does not Pareto-dominate {theirs}: it {how}."]
