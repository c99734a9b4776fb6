"""`scaleplane cost report`: what autoscaling spent and saved, from the operator's series in Prometheus."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from scaleplane.cli import options
from scaleplane.cli.app import fail, read_text
from scaleplane.cli.cost.costing import cost_app, load_catalog

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
            documents = list(yaml.safe_load_all(read_text(file, "--policies")))
        except yaml.YAMLError as exc:
            raise fail(f"--policies: {file}: cannot read it as YAML: {exc}") from None
        for document in documents:
            if not isinstance(document, dict) or document.get("kind") != "ScalingPolicy":
                continue
            metadata = document.get("metadata") or {}
            annotations = metadata.get("annotations") if isinstance(metadata, dict) else None
            if not isinstance(metadata, dict) or not isinstance(annotations or {}, dict):
                raise fail(
                    f"--policies: {file}: metadata must be a mapping with a mapping of annotations, "
                    f"was {metadata!r}"
                )
            try:
                spec = specs.parse_policy(document.get("spec"))
            except specs.PolicyError as exc:
                raise fail(f"{file}: " + "; ".join(exc.problems)) from None
            found[str(metadata.get("name"))] = (
                spec,
                {str(k): str(v) for k, v in (annotations or {}).items()},
            )
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
    timeout: Annotated[float, typer.Option(help="Seconds to wait for each range query.")] = 30.0,
) -> None:
    import time

    import prometheus_api_client
    import requests
    from prometheus_api_client import exceptions
    from urllib3.util.retry import Retry

    from scaleplane.cost import attributing, unitprices

    options.positive_finite("--timeout", timeout)
    span, wanted = _duration_seconds(since, "--since"), _duration_seconds(step, "--step")
    given, capacities, node = (
        _pairs(unit_price, "--unit-price"),
        _pairs(capacity, "--capacity"),
        _node_price(node_price),
    )
    known, catalog = _policies(policies), load_catalog(prices)
    options.http_url("--prometheus", prometheus)
    seconds = attributing.step_for(span, wanted)
    end = float(int(time.time() // seconds * seconds))
    # Retries (urllib3's, with backoff) cover a Prometheus restarting (5xx, 429, refused); a read that
    # times out is not retried: the timeout bounds the wait, and one that never answers fails once.
    retry = Retry(total=3, read=0, backoff_factor=0.5, status_forcelist=(429, 500, 502, 503, 504))
    client = prometheus_api_client.PrometheusConnect(
        url=prometheus, disable_ssl=True, retry=retry, timeout=max(1, int(timeout))
    )
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
    from scaleplane.cli.cost import tables
    from scaleplane.cost import savings_reports

    if as_json:
        typer.echo(
            json.dumps(
                {
                    "since": since,
                    "stepSeconds": seconds,
                    "policies": [savings_reports.attribution_json(a) for a in found],
                },
                indent=2,
            )
        )
    else:
        tables.print_attribution(found, since)
    if report is not None:
        typer.echo(f"wrote {savings_reports.write_attribution(report, found, recorded, since)}", err=True)
