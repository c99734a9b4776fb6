"""`scaleplane cost`: what a stack will cost, what autoscaling spent and saved, what the bill says.

Thin: it reads files, plans the stack (the same offline plan as `scaleplane plan`) and prints; the
pricing is `scaleplane.cost` (pure), the servers are reached through its adapters. Bad input ends with
`error: ...` naming the file, field and value, exit 2.
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from scaleplane.cli import options
from scaleplane.cli import planning as planning_cli
from scaleplane.cli.app import app, fail

if TYPE_CHECKING:
    from scaleplane.cost import catalogs, estimates

cost_app = typer.Typer(
    name="cost",
    help="Cost reports: estimate a stack before deploying, attribute autoscaling spend, read the bill.",
    no_args_is_help=True,
)
prices_app = typer.Typer(
    name="prices", help="The price catalog: list it, refresh it from AWS.", no_args_is_help=True
)
cost_app.add_typer(prices_app)
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
    try:
        return catalog.overlaid(catalogs.parse(prices.read_text(), str(prices)))
    except UnicodeDecodeError:
        raise fail(f"--prices: {prices} is not a text file (expected a JSON catalog)") from None
    except OSError as exc:
        raise fail(f"--prices: cannot read {prices}: {exc.strerror or exc}") from None
    except catalogs.CatalogError as exc:
        raise fail(str(exc)) from None


def _usage(path: Path | None) -> Any:
    import yaml

    from scaleplane.cost import usages

    if path is None:
        return usages.Usage()
    try:
        data = yaml.safe_load(path.read_text())
    except UnicodeDecodeError:
        raise fail(f"--usage: {path} is not a text file (expected a YAML usage file)") from None
    except OSError as exc:
        raise fail(f"--usage: cannot read {path}: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise fail(f"{path}: not valid YAML: {exc}") from None
    try:
        return usages.parse(data, str(path))
    except usages.UsageError as exc:
        raise fail(str(exc)) from None


def cost_config(stack: str, config_file: Path | None, project_dir: Path | None) -> tuple[str, Any]:
    """(region, the validated `scaleplane:cost` key) of a stack."""
    from pydantic import ValidationError

    from scaleplane.infra import config, planning

    root = planning_cli._project_root(project_dir)
    try:
        _, values = planning.stack_config(root, stack, config_file)
    except planning.PlanError as exc:
        raise fail(str(exc)) from None
    raw = values.get("scaleplane:cost", "{}")
    try:
        settings = config.CostConfig.model_validate(json.loads(raw) if raw.startswith("{") else {})
    except (ValidationError, json.JSONDecodeError) as exc:
        raise fail(f"scaleplane:cost: invalid ({str(exc).splitlines()[-1].strip()}), was {raw}") from None
    return values.get("aws:region", "us-east-1"), settings


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

    region, settings = cost_config(stack, config_file, project_dir)
    plan = plan or planning_cli._plan(stack, config_file, project_dir)
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

    try:
        with trace.open(newline="") as lines:
            demand = traces.parse_trace(lines, source=str(trace), bucket_seconds=15.0)
    except OSError as exc:
        raise fail(f"--trace: cannot read {trace}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise fail(f"--trace: {trace} is not text: {exc}") from None
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
        try:
            document = json.loads(path.read_text())
        except UnicodeDecodeError:
            raise fail(f"--compare: {path} is not a text file (expected Infracost JSON)") from None
        except OSError as exc:
            raise fail(f"--compare: cannot read {path}: {exc.strerror or exc}") from None
        except json.JSONDecodeError as exc:
            raise fail(f"--compare: {path} is not valid JSON ({exc.msg} at line {exc.lineno})") from None
        try:
            return infracost.parse(document, str(path))
        except ValueError as exc:
            raise fail(str(exc)) from None
    return build_estimate(compare, project_dir=project_dir, prices=prices, usage=usage)


@cost_app.command("estimate", help=ESTIMATE_HELP)
def estimate(
    stack: str = planning_cli.StackOption,
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
    config_file: Path | None = planning_cli.ConfigFileOption,
    project_dir: Path | None = planning_cli.ProjectOption,
) -> None:
    from scaleplane.cost import infracost

    if capacity <= 0:
        raise fail(f"--capacity: must be > 0, was {capacity}")
    plan = planning_cli._plan(stack, config_file, project_dir)
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
    from scaleplane.cli import cost_tables

    cost_tables.print_estimate(current, past)


@prices_app.command(
    "list", help="Print the catalog's prices with their source and date (--prices: with a refresh)."
)
def prices_list(
    region: Annotated[str | None, typer.Option("--region", help="Only this region.")] = None,
    prices: Annotated[
        Path | None, typer.Option("--prices", help="A refreshed catalog over the bundled one.")
    ] = None,
) -> None:
    catalog = load_catalog(prices)
    if region is not None and region not in catalog.regions:
        raise fail(f"--region: no prices for {region!r} (regions: {', '.join(catalog.regions)})")
    for price in sorted(catalog.prices.values(), key=lambda p: (p.region, p.service, p.product)):
        if region is None or price.region == region:
            typer.echo(
                f"{price.region}\t{price.service}\t{price.product}\t{price.usd:g} USD/{price.unit}\t"
                f"{price.date}\t{price.source}"
            )


REFRESH_HELP = """Fetch the catalog's prices again from the AWS Price List API (boto3 `pricing`).

Writes a catalog file of the bundled one's shape (every price with its source, the offer's SKU and
effective date, and the day of the refresh) that `cost estimate --prices FILE` lays over the bundled
prices. Needs AWS credentials allowed `pricing:GetProducts`; --endpoint-url (or AWS_ENDPOINT_URL_PRICING)
points it elsewhere. A product the API has nothing for keeps its bundled price and is listed.
"""


@prices_app.command("refresh", help=REFRESH_HELP)
def prices_refresh(
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Where to write the refreshed catalog.")
    ] = Path("prices.json"),
    region: Annotated[
        list[str] | None,
        typer.Option("--region", help="A region to refresh (repeatable; default: all of the catalog's)."),
    ] = None,
    endpoint_url: Annotated[
        str | None,
        typer.Option("--endpoint-url", help="The Price List API endpoint (default: AWS's, us-east-1)."),
    ] = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for each answer.")] = 20.0,
) -> None:
    import boto3
    import botocore.config
    import botocore.exceptions

    from scaleplane.cost import catalogs, refreshing

    options.positive_finite("--timeout", timeout)
    if endpoint_url is not None:
        options.http_url("--endpoint-url", endpoint_url)
    bundled = catalogs.bundled()
    unknown = sorted(set(region or ()) - set(bundled.regions))
    if unknown:
        raise fail(f"--region: no catalog products in {unknown[0]!r} (regions: {', '.join(bundled.regions)})")
    config = botocore.config.Config(
        retries={"mode": "standard", "max_attempts": 3}, connect_timeout=timeout, read_timeout=timeout
    )
    # The Price List API is served from us-east-1 (and two other regions) whatever region it prices.
    client = boto3.client("pricing", region_name="us-east-1", endpoint_url=endpoint_url, config=config)
    today = datetime.datetime.now(datetime.UTC).date().isoformat()
    regions = refreshing.regions_of(bundled, region or ())
    try:
        result = refreshing.refresh(
            client, bundled, regions, today, progress=lambda line: typer.echo(line, err=True)
        )
    except botocore.exceptions.NoCredentialsError:
        raise fail(
            "no AWS credentials: the Price List API needs a signed request (aws configure)", 1
        ) from None
    except botocore.exceptions.EndpointConnectionError as exc:
        raise fail(f"cannot reach the Price List API: {exc}", 1) from None
    except (botocore.exceptions.ClientError, botocore.exceptions.ReadTimeoutError) as exc:
        raise fail(f"the Price List API refused or timed out: {exc}", 1) from None
    except refreshing.RefreshError as exc:
        raise fail(str(exc), 1) from None
    output.write_text(result.catalog.to_json())
    typer.echo(f"wrote {len(result.catalog.prices)} price(s) to {output}")
    for missing_region, service, product in result.missing:
        typer.secho(
            f"not refreshed (kept the bundled price): {missing_region} {service} {product}",
            fg=typer.colors.YELLOW,
        )


# The spend commands live in their own modules; importing them registers them on `cost_app`.
from scaleplane.cli import cost_actuals, cost_attribution  # noqa: E402, F401
