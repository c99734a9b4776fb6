"""The `scaleplane cost` group and `cost estimate`: what a stack will cost, priced from its offline plan.

Also what the other cost commands share: the catalog (bundled, overlaid by --prices) and the estimate
of a stack (`cost actual` compares the bill with it). The plan is the same offline plan as
`scaleplane plan` (cli.stacks); the pricing is `scaleplane.cost` (pure).
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from scaleplane.cli import stacks
from scaleplane.cli.app import app, fail, read_text

if TYPE_CHECKING:
    from scaleplane.cost import catalogs, estimates

cost_app = typer.Typer(
    name="cost",
    help="Cost reports: estimate a stack before deploying, attribute autoscaling spend, read the bill.",
    no_args_is_help=True,
)
app.add_typer(cost_app)

ESTIMATE_HELP = """Price every resource of the stack's offline plan, per month (730 h) and per hour.

Prices come from the bundled catalog of AWS on-demand list prices (each with its source and date;
`scaleplane cost prices list`), overlaid by --prices FILE (from `cost prices refresh`). A resource the
catalog does not know is listed as unpriced, never as 0. Usage-based parts (data processed, logs,
backups, storage growth) come from --usage FILE (Infracost's usage-file format); without it they are
listed without a cost. Autoscaled parts are priced as a range: at minReplicas, at maxReplicas, and
expected (--trace replays each ScalingPolicy of the plan over a load trace with the simulator).
--json prints Infracost's JSON shape. Details: docs/cost.md.
"""


def load_catalog(prices: Path | None) -> catalogs.Catalog:
    from scaleplane.cost import catalogs

    catalog = catalogs.bundled()
    if prices is None:
        return catalog
    text = read_text(prices, "--prices")
    try:
        return catalog.overlaid(catalogs.parse(text, str(prices)))
    except catalogs.CatalogError as exc:
        raise fail(str(exc)) from None


def _usage(path: Path | None) -> Any:
    import yaml

    from scaleplane.cost import usages

    if path is None:
        return usages.Usage()
    text = read_text(path, "--usage")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise fail(f"{path}: not valid YAML: {exc}") from None
    try:
        return usages.parse(data, str(path))
    except usages.UsageError as exc:
        raise fail(str(exc)) from None


def build_estimate(
    stack: str,
    *,
    config_file: Path | None = None,
    project_dir: Path | None = None,
    prices: Path | None = None,
    usage: Path | None = None,
    expected: dict[str, tuple[float, str]] | None = None,
    plan: Any = None,
) -> estimates.Estimate:
    from scaleplane.cost import estimates, estimating, shares

    region, settings = stacks.cost_config(stack, config_file, project_dir)
    plan = plan or stacks.offline_plan(stack, config_file, project_dir)
    node = settings.node_price
    given = estimating.Inputs(
        project=plan.project,
        stack=plan.stack,
        region=region,
        catalog=load_catalog(prices),
        usage=_usage(usage),
        node_price=shares.NodePrice(node.hourly_usd, node.vcpu, node.memory_gib) if node else None,
        expected=expected or {},
    )
    items = [estimates.Item(r.type, r.name, r.inputs) for r in plan.resources]
    return estimating.estimate(items, given)


def _expected_from_trace(plan: Any, trace: Path, capacity: float, startup: float, only: str | None) -> Any:
    from scaleplane.cost import ranges
    from scaleplane.scaling import specs
    from scaleplane.scaling.simulating import simulation, traces

    text = read_text(trace, "--trace")
    try:
        demand = traces.parse_trace(text.splitlines(), source=str(trace), bucket_seconds=15.0)
    except traces.TraceError as exc:
        raise fail(str(exc)) from None
    model = simulation.TargetModel(capacity_per_replica=capacity, startup_seconds=startup)
    policies = [r for r in plan.resources if r.type == "kubernetes:scaleplane.io/v1alpha1:ScalingPolicy"]
    chosen = [p for p in policies if only is None or only in p.name]
    if not chosen:
        names = ", ".join(p.name for p in policies) or "none"
        raise fail(f"--trace-policy: no ScalingPolicy in the plan matches {only!r} (policies: {names})")
    found = {}
    for policy in chosen:
        try:
            result = ranges.expected(policy.name, policy.inputs["spec"], demand, model=model)
        except specs.PolicyError as exc:
            raise fail(f"{policy.name}: " + "; ".join(exc.problems)) from None
        basis = f"{trace.name} replayed ({result.trace_hours:.1f} h, peak {result.peak_replicas})"
        found[policy.name] = (result.mean_replicas, basis)
    return found


def _past(compare: str, prices: Path | None, usage: Path | None, project_dir: Path | None) -> Any:
    from scaleplane.cost import infracost

    path = Path(compare)
    if path.suffix == ".json" or path.is_file():
        text = read_text(path, "--compare")
        try:
            document = json.loads(text)
        except json.JSONDecodeError as exc:
            raise fail(f"--compare: {path} is not valid JSON ({exc.msg} at line {exc.lineno})") from None
        try:
            return infracost.parse(document, str(path))
        except ValueError as exc:
            raise fail(str(exc)) from None
    return build_estimate(compare, project_dir=project_dir, prices=prices, usage=usage)


@cost_app.command("estimate", help=ESTIMATE_HELP)
def estimate(
    stack: str = stacks.StackOption,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print Infracost's JSON shape, nothing else.")
    ] = False,
    compare: Annotated[
        str | None,
        typer.Option(
            "--compare", help="A stack name, or an Infracost-shaped JSON file: print the difference."
        ),
    ] = None,
    usage: Annotated[
        Path | None, typer.Option("--usage", help="A usage file (YAML, Infracost's format).")
    ] = None,
    trace: Annotated[
        Path | None,
        typer.Option("--trace", help="A load trace: replay each policy to price its expected replicas."),
    ] = None,
    trace_policy: Annotated[
        str | None, typer.Option("--trace-policy", help="Replay only the policies whose name contains this.")
    ] = None,
    capacity: Annotated[float, typer.Option(help="With --trace: work units/s one replica serves.")] = 0.25,
    startup: Annotated[float, typer.Option(help="With --trace: seconds until a new replica serves.")] = 60.0,
    prices: Annotated[
        Path | None,
        typer.Option("--prices", help="A catalog from `cost prices refresh`, over the bundled one."),
    ] = None,
    report: Annotated[
        Path | None, typer.Option("--report", help="Also write cost-estimate.md and its chart here.")
    ] = None,
    config_file: Path | None = stacks.ConfigFileOption,
    project_dir: Path | None = stacks.ProjectOption,
) -> None:
    from scaleplane.cost import infracost

    if capacity <= 0:
        raise fail(f"--capacity: must be > 0, was {capacity}")
    plan = stacks.offline_plan(stack, config_file, project_dir)
    expected = _expected_from_trace(plan, trace, capacity, startup, trace_policy) if trace else None
    current = build_estimate(
        stack,
        config_file=config_file,
        project_dir=project_dir,
        prices=prices,
        usage=usage,
        expected=expected,
        plan=plan,
    )
    past = _past(compare, prices, usage, project_dir) if compare else None
    if report is not None:
        from scaleplane.cost import reports

        typer.echo(f"wrote {reports.write_estimate(report, current)}", err=True)
    if as_json:
        now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        typer.echo(json.dumps(infracost.output(current, now, past), indent=2))
        return
    from scaleplane.cli.cost import tables

    tables.print_estimate(current, past)
