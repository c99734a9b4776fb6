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
    from scaleplane.cli import simulating
    from scaleplane.cost import ranges
    from scaleplane.scaling import simulation, specs

    demand = simulating._read_trace(trace, 15.0, [])
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


ACTUAL_HELP = """What the bill says: AWS Cost Explorer's spend (boto3 `ce`, GetCostAndUsage) per day over the
last --since days, grouped by a cost-allocation tag (--group-by tag:KEY) or by service. With --stack,
the spend of that stack's resources (tags managed-by=scaleplane and its environment) per service, next
to the estimate for the same days, each variance named (as estimated within 10 %, over, under, not
estimated, no spend recorded). --endpoint-url (or AWS_ENDPOINT_URL_CE) points it elsewhere.
"""


def _days(since: str, option: str = "--since") -> int:
    text = since.strip().lower()
    if not (text.endswith("d") and text[:-1].isdigit() and 0 < int(text[:-1]) <= 400):
        raise fail(f"{option}: expected whole days like 30d (1d..400d), was {since!r}")
    return int(text[:-1])


def _group(group_by: str) -> tuple[str, str]:
    if group_by == "service":
        return "DIMENSION", "SERVICE"
    kind, _, key = group_by.partition(":")
    if kind != "tag" or not key:
        raise fail(f"--group-by: expected tag:KEY or service, was {group_by!r}")
    return "TAG", key


@cost_app.command("actual", help=ACTUAL_HELP)
def actual(
    since: Annotated[str, typer.Option("--since", help="How far back, in days (30d).")] = "30d",
    group_by: Annotated[
        str, typer.Option("--group-by", help="tag:KEY (a cost-allocation tag) or service.")
    ] = ("tag:cost-center"),
    stack: Annotated[
        str | None,
        typer.Option("--stack", "-s", help="Compare this stack's spend per service with its estimate."),
    ] = None,
    endpoint_url: Annotated[
        str | None, typer.Option("--endpoint-url", help="The Cost Explorer endpoint.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object, nothing else.")] = False,
    report: Annotated[
        Path | None, typer.Option("--report", help="Write cost-actual.md and its charts into this folder.")
    ] = None,
    prices: Annotated[
        Path | None, typer.Option("--prices", help="A refreshed catalog (cost prices refresh).")
    ] = None,
    project_dir: Path | None = planning_cli.ProjectOption,
) -> None:
    import boto3
    import botocore.config
    import botocore.exceptions

    from scaleplane.cost import actuals
    from scaleplane.infra import planning

    days, grouping = _days(since), _group(group_by)
    estimate = build_estimate(stack, project_dir=project_dir, prices=prices) if stack else None
    config = botocore.config.Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=20)
    client = boto3.client("ce", region_name="us-east-1", endpoint_url=endpoint_url, config=config)
    start, end = actuals.period(days, datetime.datetime.now(datetime.UTC).date())
    try:
        by_group = actuals.spend(client, start, end, grouping)
        by_service: list[actuals.Spend] = []
        if stack is not None:
            _, values = planning.stack_config(planning_cli._project_root(project_dir), stack)
            environment = values.get("scaleplane:environment", "dev")
            tags = [
                {"Tags": {"Key": k, "Values": [v]}}
                for k, v in (("managed-by", "scaleplane"), ("environment", environment))
            ]
            by_service = actuals.spend(client, start, end, ("DIMENSION", "SERVICE"), {"And": tags})
    except botocore.exceptions.NoCredentialsError:
        raise fail("no AWS credentials: Cost Explorer needs a signed request (aws configure)", 1) from None
    except botocore.exceptions.EndpointConnectionError as exc:
        raise fail(f"cannot reach Cost Explorer: {exc}", 1) from None
    except botocore.exceptions.ClientError as exc:
        raise fail(f"Cost Explorer refused: {exc}", 1) from None
    variances = (
        actuals.compare(actuals.estimated_by_service(estimate, days), actuals.totals(by_service))
        if estimate
        else []
    )
    if as_json:
        typer.echo(json.dumps(_actual_json(start, end, group_by, by_group, variances), indent=2))
    else:
        from scaleplane.cli import cost_tables

        cost_tables.print_actual(start, end, group_by, actuals.totals(by_group), variances)
    if report is not None:
        from scaleplane.cost import reports

        written = reports.write_actual(report, start, end, group_by, by_group, variances)
        typer.echo(f"wrote {written}", err=True)


def _actual_json(start: str, end: str, group_by: str, rows: Any, variances: Any) -> dict[str, Any]:
    from scaleplane.cost import actuals

    return {
        "period": {"start": start, "end": end},
        "groupBy": group_by,
        "currency": "USD",
        "total": round(sum(r.usd for r in rows), 4),
        "groups": {k: round(v, 4) for k, v in actuals.totals(rows).items()},
        "services": [
            {
                "service": v.service,
                "estimated": round(v.estimated_usd, 4),
                "actual": round(v.actual_usd, 4),
                "difference": round(v.difference_usd, 4),
                "verdict": v.verdict,
            }
            for v in variances
        ],
    }


REPORT_HELP = """What autoscaling spent and saved, from the operator's own series in Prometheus.

Per policy over the last --since: replica-hours (range queries over scaleplane_current_replicas) times a
unit price, against holding the peak and holding maxReplicas for the whole window, and against the
Kubernetes HPA's defaults replayed by the simulator on the same recorded metric (with the policy
replayed the same way, so both SLO-violation minutes come from one model). Unit prices: --unit-price,
or the policy's annotations (scaleplane.io/hourly-price-usd, scaleplane.io/instance-class,
scaleplane.io/pod-requests with --node-price); see docs/cost.md.
"""


def _duration_seconds(text: str, option: str) -> float:
    units = {"m": 60, "h": 3600, "d": 86400}
    body, unit = text[:-1], text[-1:].lower()
    if unit not in units or not body.isdigit() or int(body) <= 0:
        raise fail(f"{option}: expected a duration like 90m, 6h or 7d, was {text!r}")
    return int(body) * units[unit]


def _pairs(values: list[str] | None, option: str) -> dict[str, float]:
    found = {}
    for value in values or ():
        name, _, number = value.partition("=")
        try:
            found[name] = float(number)
        except ValueError:
            raise fail(f"{option}: expected POLICY=NUMBER, was {value!r}") from None
        if not name or found[name] < 0:
            raise fail(f"{option}: expected POLICY=NUMBER >= 0, was {value!r}")
    return found


def _policies(path: Path | None) -> dict[str, tuple[Any, dict[str, str]]]:
    """name -> (spec, annotations) of every ScalingPolicy in a YAML file or a folder of them."""
    import yaml

    from scaleplane.scaling import specs

    if path is None:
        return {}
    files = sorted(path.glob("*.y*ml")) if path.is_dir() else [path]
    if not path.exists():
        raise fail(f"--policies: {path} does not exist")
    found = {}
    for file in files:
        try:
            documents = list(yaml.safe_load_all(file.read_text()))
        except (OSError, yaml.YAMLError) as exc:
            raise fail(f"{file}: cannot read it as YAML: {exc}") from None
        for document in documents:
            if not isinstance(document, dict) or document.get("kind") != "ScalingPolicy":
                continue
            metadata = document.get("metadata") or {}
            try:
                spec = specs.parse_policy(document.get("spec"))
            except specs.PolicyError as exc:
                raise fail(f"{file}: " + "; ".join(exc.problems)) from None
            found[str(metadata.get("name"))] = (spec, dict(metadata.get("annotations") or {}))
    return found


def _node_price(text: str | None) -> Any:
    from scaleplane.cost import shares

    if text is None:
        return None
    try:
        hourly, vcpu, memory = (float(part) for part in text.split(","))
    except ValueError:
        raise fail(
            f"--node-price: expected USD_PER_HOUR,VCPU,MEMORY_GIB like 0.192,4,16, was {text!r}"
        ) from None
    return shares.NodePrice(hourly, vcpu, memory)


@cost_app.command("report", help=REPORT_HELP)
def report_command(
    prometheus: Annotated[
        str, typer.Option("--prometheus", help="Prometheus' URL (it scrapes the operator).")
    ],
    since: Annotated[str, typer.Option("--since", help="How far back: 90m, 6h, 7d.")] = "7d",
    step: Annotated[
        str, typer.Option("--step", help="The range queries' step (raised to stay under 11,000 points).")
    ] = "1m",
    policies: Annotated[
        Path | None, typer.Option("--policies", help="ScalingPolicy YAML (a file or a folder).")
    ] = None,
    unit_price: Annotated[
        list[str] | None, typer.Option("--unit-price", help="POLICY=USD per replica-hour.")
    ] = None,
    node_price: Annotated[str | None, typer.Option("--node-price", help="USD/h,vCPU,GiB of a node.")] = None,
    capacity: Annotated[
        list[str] | None, typer.Option("--capacity", help="POLICY=units/s one replica serves.")
    ] = None,
    startup: Annotated[
        float, typer.Option(help="Seconds until a new replica serves, in the replays.")
    ] = 60.0,
    region: Annotated[
        str, typer.Option("--region", help="The region instance-class annotations are priced in.")
    ] = "us-east-1",
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object, nothing else.")] = False,
    report: Annotated[
        Path | None, typer.Option("--report", help="Write cost-report.md and its chart here.")
    ] = None,
    prices: Annotated[
        Path | None, typer.Option("--prices", help="A refreshed catalog (cost prices refresh).")
    ] = None,
) -> None:
    import time

    import prometheus_api_client
    import requests
    from prometheus_api_client import exceptions

    from scaleplane.cost import attributing, unitprices

    span, wanted = _duration_seconds(since, "--since"), _duration_seconds(step, "--step")
    given, capacities, node = (
        _pairs(unit_price, "--unit-price"),
        _pairs(capacity, "--capacity"),
        _node_price(node_price),
    )
    known, catalog = _policies(policies), load_catalog(prices)
    seconds = attributing.step_for(span, wanted)
    end = float(int(time.time() // seconds * seconds))
    client = prometheus_api_client.PrometheusConnect(url=prometheus, disable_ssl=True, retry=None)
    try:
        recorded = attributing.fetch(client, end - span, end, seconds)
    except requests.RequestException as exc:
        raise fail(f"cannot query Prometheus at {prometheus}: {exc}", 1) from None
    except exceptions.PrometheusApiClientException as exc:
        raise fail(f"Prometheus refused the range query: {exc}", 1) from None
    if not recorded:
        raise fail(
            f"no scaleplane_current_replicas series in Prometheus at {prometheus} over the last {since}", 1
        )
    found = []
    for series in recorded:
        spec, annotations = known.get(series.policy, (None, {}))
        try:
            price, source = unitprices.unit_price(series.policy, annotations, given, catalog, region, node)
        except unitprices.UnitPriceError as exc:
            raise fail(str(exc)) from None
        found.append(
            attributing.attribute(
                series, seconds, spec, price, source, capacities.get(series.policy), startup
            )
        )
    from scaleplane.cli import cost_tables
    from scaleplane.cost import reports

    if as_json:
        typer.echo(
            json.dumps(
                {
                    "since": since,
                    "stepSeconds": seconds,
                    "policies": [reports.attribution_json(a) for a in found],
                },
                indent=2,
            )
        )
    else:
        cost_tables.print_attribution(found, since)
    if report is not None:
        typer.echo(f"wrote {reports.write_attribution(report, found, recorded, since)}", err=True)
