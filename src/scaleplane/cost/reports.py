"""Cost reports people read: Markdown pages with PNG charts, drawn through scaleplane.reporting.

    cost-estimate.md   the inventory by component, the autoscaled ranges, the unpriced resources
                       + cost-by-component.png
    cost-actual.md     the bill per group and per service against the estimate, variances named
                       + spend-over-time.png, estimate-vs-actual.png
    cost-report.md     what autoscaling spent and saved: `savings_reports`

Each writer takes computed values (an Estimate, Spend rows, Variances) and writes files; it computes
nothing a number in the report depends on beyond sums for display.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from pathlib import Path

from scaleplane.cost import actuals, estimates
from scaleplane.reporting import bars, markdown, plots


def usd(value: float) -> str:
    return f"${value:,.2f}"


def by_component(estimate: estimates.Estimate) -> list[tuple[str, float]]:
    """Monthly cost per component kind (instances, storage, NAT gateways ...), biggest first."""
    found: dict[str, float] = {}
    for resource in estimate.with_status("priced"):
        for component in resource.components:
            if component.monthly_cost:
                kind = component.name.split(" (", 1)[0]
                found[kind] = found.get(kind, 0.0) + component.monthly_cost
    return sorted(found.items(), key=lambda item: -item[1])


def write_estimate(folder: Path, estimate: estimates.Estimate) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    parts = by_component(estimate)
    if parts:
        bars.chart(
            folder / "cost-by-component.png",
            [k for k, _ in parts],
            [bars.Bars("monthly", [v for _, v in parts])],
            title=f"{estimate.stack}: monthly cost by component ({usd(estimate.monthly_cost)})",
            unit="USD / month",
        )
    low, expected, high = estimate.total_range()
    lines = [
        f"# Cost estimate: {estimate.project}/{estimate.stack} ({estimate.region})\n",
        f"**{usd(estimate.monthly_cost)} per month** ({usd(estimate.hourly_cost)} per hour) as planned, "
        f"on-demand list prices; autoscaled between {usd(low)} and {usd(high)}, {usd(expected)} expected.\n",
        "![cost by component](cost-by-component.png)\n" if parts else "",
        "## By component\n",
        markdown.table(["component", "monthly"], [[k, usd(v)] for k, v in parts]),
        "## By resource\n",
        markdown.table(
            ["resource", "type", "monthly"],
            [
                [r.name, r.resource_type, usd(r.monthly_cost)]
                for r in sorted(estimate.with_status("priced"), key=lambda r: -r.monthly_cost)
            ],
        ),
    ]
    if estimate.ranges:
        rows = [
            [
                r.name,
                p.what,
                f"{p.min_replicas} = {usd(p.monthly(p.min_replicas))}",
                f"{p.expected_replicas:.2f} = {usd(p.monthly(p.expected_replicas))}",
                f"{p.max_replicas} = {usd(p.monthly(p.max_replicas))}",
                p.basis,
            ]
            for r, p in estimate.ranges
        ]
        lines += [
            "## Autoscaled parts\n",
            markdown.table(["resource", "what", "min", "expected", "max", "expected from"], rows),
        ]
    unpriced = estimate.with_status("unpriced")
    if unpriced:
        lines += [
            "## Unpriced (not in the totals)\n",
            markdown.table(
                ["resource", "type", "why"], [[r.name, r.resource_type, r.note] for r in unpriced]
            ),
        ]
    dates = ", ".join(sorted({p.date for p in estimate.sources})) or "n/a"
    lines.append(f"\nPrices: {len(estimate.sources)} catalog prices dated {dates}. {estimate.catalog_note}\n")
    page = folder / "cost-estimate.md"
    page.write_text("\n".join(lines))
    return page


def write_actual(
    folder: Path,
    start: str,
    end: str,
    group_by: str,
    rows: Sequence[actuals.Spend],
    variances: Sequence[actuals.Variance],
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    groups = actuals.totals(rows)
    days = sorted({r.day for r in rows})
    charts = []
    if len(days) > 1:
        first = datetime.date.fromisoformat(days[0])
        at = [(datetime.date.fromisoformat(d) - first).days * 86400.0 for d in days]
        daily = {(r.day, r.group): r.usd for r in rows}
        series = [
            plots.Series(g, [daily.get((d, g), 0.0) for d in days], step=True) for g in list(groups)[:8]
        ]
        plots.timeline(
            folder / "spend-over-time.png",
            at,
            [plots.Panel(f"daily spend by {group_by}", "USD/day", series)],
            title=f"Cost Explorer: spend from {start}",
        )
        charts.append("![spend over time](spend-over-time.png)\n")
    if variances:
        labels = [v.service for v in variances]
        bars.chart(
            folder / "estimate-vs-actual.png",
            labels,
            [
                bars.Bars("estimated", [v.estimated_usd for v in variances]),
                bars.Bars("actual", [v.actual_usd for v in variances]),
            ],
            title=f"estimate against the bill, {start} to {end}",
            unit="USD",
        )
        charts.append("![estimate against actual](estimate-vs-actual.png)\n")
    lines = [
        f"# What the bill says: {start} to {end} (end exclusive)\n",
        f"Total unblended cost {usd(sum(groups.values()))}, from AWS Cost Explorer.\n",
        *charts,
        f"## By {group_by}\n",
        markdown.table([group_by, "spend"], [[g, usd(v)] for g, v in groups.items()]),
    ]
    if variances:
        table = [
            [v.service, usd(v.estimated_usd), usd(v.actual_usd), usd(v.difference_usd), v.verdict]
            for v in variances
        ]
        lines += [
            "## Per service, against the estimate\n",
            markdown.table(["service", "estimated", "actual", "variance", "verdict"], table),
        ]
    page = folder / "cost-actual.md"
    page.write_text("\n".join(lines))
    return page
