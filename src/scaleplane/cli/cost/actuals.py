"""`scaleplane cost actual`: what the bill says (Cost Explorer), against the estimate per service."""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Annotated, Any

import typer

from scaleplane.cli import options, stacks
from scaleplane.cli.app import fail
from scaleplane.cli.cost.costing import build_estimate, cost_app

ACTUAL_HELP = """What the bill says: Cost Explorer's spend, by tag or service, against the estimate.

AWS Cost Explorer's unblended cost (boto3 `ce`, GetCostAndUsage) per day over the last --since days,
grouped by a cost-allocation tag (--group-by tag:KEY) or by service. With --stack, the spend of that
stack's resources (tags managed-by=scaleplane and its environment) per service, next to the estimate
for the same days, each variance named (as estimated within 10 %, over, under, not estimated, no spend
recorded). --endpoint-url (or AWS_ENDPOINT_URL_CE) points it elsewhere.
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
    project_dir: Path | None = stacks.ProjectOption,
) -> None:
    import boto3
    import botocore.config
    import botocore.exceptions

    from scaleplane.cost import actuals
    from scaleplane.infra import planning

    days, grouping = _days(since), _group(group_by)
    if endpoint_url is not None:
        options.http_url("--endpoint-url", endpoint_url)
    estimate = build_estimate(stack, project_dir=project_dir, prices=prices) if stack else None
    config = botocore.config.Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=20)
    client = boto3.client("ce", region_name="us-east-1", endpoint_url=endpoint_url, config=config)
    start, end = actuals.period(days, datetime.datetime.now(datetime.UTC).date())
    try:
        by_group = actuals.spend(client, start, end, grouping)
        by_service: list[actuals.Spend] = []
        if stack is not None:
            _, values = planning.stack_config(stacks.project_root(project_dir), stack)
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
        from scaleplane.cli.cost import tables

        tables.print_actual(start, end, group_by, actuals.totals(by_group), variances)
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
