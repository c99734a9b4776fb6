"""The terminal tables of `scaleplane cost estimate`: the inventory with prices, ranges, the difference."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from scaleplane.cost import actuals, attributing, estimates, infracost


def usd(value: float | None) -> str:
    return "-" if value is None else f"${value:,.2f}"


def _quantity(component: estimates.Component) -> str:
    if component.monthly_quantity is None:
        return f"usage: {component.usage_key}"
    return f"{component.monthly_quantity:,.4g} {component.unit}"


def inventory(estimate: estimates.Estimate) -> Table:
    table = Table(
        title=f"{estimate.project}/{estimate.stack} ({estimate.region}): monthly cost, on-demand list prices"
    )
    for column, justify in (
        ("resource", "left"),
        ("component", "left"),
        ("quantity / month", "right"),
        ("price", "right"),
        ("monthly", "right"),
    ):
        table.add_column(column, justify=justify, overflow="fold")  # type: ignore[arg-type]
    for resource in sorted(estimate.with_status("priced"), key=lambda r: -r.monthly_cost):
        first = True
        for component in resource.components:
            price = component.price
            table.add_row(
                f"{resource.name}\n[dim]{resource.resource_type}[/dim]" if first else "",
                component.name,
                _quantity(component),
                f"${price.usd:g}/{price.unit}" if price else "-",
                usd(component.monthly_cost),
            )
            first = False
        table.add_section()
    table.add_row("[bold]total[/bold]", "", "", "", f"[bold]{usd(estimate.monthly_cost)}[/bold]")
    return table


def autoscaled(estimate: estimates.Estimate) -> Table | None:
    parts = estimate.ranges
    if not parts:
        return None
    table = Table(title="autoscaled parts: monthly cost at minReplicas, expected, at maxReplicas")
    for column in ("resource", "what", "min", "expected", "max", "expected from"):
        table.add_column(column, overflow="fold")
    for resource, part in parts:
        note = "" if part.in_total else " (share of the nodes, not added)"
        table.add_row(
            resource.name,
            part.what + note,
            f"{part.min_replicas} = {usd(part.monthly(part.min_replicas))}",
            f"{part.expected_replicas:.2f} = {usd(part.monthly(part.expected_replicas))}",
            f"{part.max_replicas} = {usd(part.monthly(part.max_replicas))}",
            part.basis,
        )
    return table


def difference(current: estimates.Estimate, past: estimates.Estimate) -> Table:
    table = Table(title=f"difference per resource: {past.stack} -> {current.stack} (monthly)")
    for column, justify in (
        ("resource type", "left"),
        ("resource", "left"),
        (past.stack, "right"),
        (current.stack, "right"),
        ("change", "right"),
    ):
        table.add_column(column, justify=justify, overflow="fold")  # type: ignore[arg-type]
    for type_, name, old, new in infracost.diff_resources(current, past):
        sign = "+" if new >= old else "-"
        table.add_row(type_, name or "(root)", usd(old), usd(new), f"{sign}{usd(abs(new - old))}")
    change = current.monthly_cost - past.monthly_cost
    table.add_row(
        "[bold]total[/bold]",
        "",
        usd(past.monthly_cost),
        usd(current.monthly_cost),
        f"[bold]{'+' if change >= 0 else '-'}{usd(abs(change))}[/bold]",
    )
    return table


def print_estimate(estimate: estimates.Estimate, past: estimates.Estimate | None = None) -> None:
    console = Console(width=max(Console().width, 150))
    console.print(inventory(estimate))
    ranges = autoscaled(estimate)
    if ranges is not None:
        console.print(ranges)
    low, expected, high = estimate.total_range()
    console.print(
        f"[bold]{usd(estimate.monthly_cost)}/month[/bold] ({usd(estimate.hourly_cost)}/hour) as planned; "
        f"autoscaled: {usd(low)} at the minimums, {usd(expected)} expected, {usd(high)} at the maximums"
    )
    missing = [(r, c) for r in estimate.resources for c in r.usage_missing]
    if missing:
        keys = ", ".join(sorted({f"{r.name}.{c.usage_key}" for r, c in missing})[:6])
        console.print(
            f"[yellow]{len(missing)} usage-based component(s) without usage (not in the total):[/yellow] "
            f"{keys}{' ...' if len(missing) > 6 else ''} (give them with --usage FILE)"
        )
    unpriced = estimate.with_status("unpriced")
    if unpriced:
        console.print(f"[red]{len(unpriced)} unpriced resource(s) (not in the total):[/red]")
        for resource in unpriced:
            console.print(f"  {resource.resource_type} {resource.name}: {resource.note}")
    listed = [p for p in estimate.sources if p.service != "kubernetes"]  # node shares are no catalog price
    dates = ", ".join(sorted({p.date for p in listed})) or "n/a"
    shares = " and the node price in scaleplane:cost.nodePrice" if len(listed) < len(estimate.sources) else ""
    console.print(
        f"[dim]{len(listed)} catalog price(s) used, dated {dates}{shares}; "
        "sources: scaleplane cost prices list[/dim]"
    )
    if past is not None:
        console.print(difference(estimate, past))


def print_actual(
    start: str, end: str, group_by: str, groups: dict[str, float], variances: list[actuals.Variance]
) -> None:
    console = Console(width=max(Console().width, 120))
    table = Table(title=f"Cost Explorer: unblended cost {start} to {end} (end exclusive) by {group_by}")
    table.add_column(group_by)
    table.add_column("spend", justify="right")
    for group, amount in groups.items():
        table.add_row(group, usd(amount))
    table.add_row("[bold]total[/bold]", f"[bold]{usd(sum(groups.values()))}[/bold]")
    console.print(table)
    if not variances:
        return
    compared = Table(title="the stack's spend per service against its estimate for the same days")
    for column, justify in (("service", "left"), ("estimated", "right"), ("actual", "right"),
                            ("variance", "right"), ("verdict", "left")):  # fmt: skip
        compared.add_column(column, justify=justify)  # type: ignore[arg-type]
    for row in variances:
        share = f" ({row.difference_usd / row.estimated_usd:+.0%})" if row.estimated_usd else ""
        sign = "+" if row.difference_usd >= 0 else "-"
        variance = f"{sign}{usd(abs(row.difference_usd))}{share}"
        compared.add_row(row.service, usd(row.estimated_usd), usd(row.actual_usd), variance, row.verdict)
    console.print(compared)


def print_attribution(found: list[attributing.Attribution], since: str) -> None:
    from scaleplane.cost import savings_reports

    console = Console(width=max(Console().width, 140))
    table = Table(
        title=f"what autoscaling spent over the last {since}, against the static alternatives and the HPA"
    )
    for column in (
        "policy",
        "replica-hours",
        "spent",
        "hold peak",
        "hold maxReplicas",
        "HPA (replayed)",
        "SLO min policy/HPA",
    ):
        table.add_column(column, justify="left" if column == "policy" else "right")
    for a in found:
        slo = "-"
        if a.policy_replay and a.hpa_replay:
            slo = f"{a.policy_replay.slo_violation_minutes:g} / {a.hpa_replay.slo_violation_minutes:g}"
        table.add_row(
            f"{a.namespace}/{a.policy}",
            f"{a.replica_hours:,.2f}",
            usd(a.cost(a.replica_hours)),
            usd(a.cost(a.peak_replica_hours)),
            usd(a.cost(a.max_replica_hours)),
            usd(a.cost(a.hpa_replay.replica_hours) if a.hpa_replay else None),
            slo,
        )
    console.print(table)
    for a in found:
        console.print(f"- {savings_reports.summary(a)}. [dim]Unit price: {a.price_source}.[/dim]")
