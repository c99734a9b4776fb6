"""`scaleplane cost prices list | refresh`: the price catalog every cost command prices with.

The catalog is the bundled AWS on-demand list prices (each with its source and date), overlaid by a
file from `refresh` (boto3 `pricing`, the Price List API); cli.cost.costing.load_catalog reads both.
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Annotated

import typer

from scaleplane.cli import options
from scaleplane.cli.app import fail
from scaleplane.cli.cost.costing import cost_app, load_catalog

prices_app = typer.Typer(
    name="prices", help="The price catalog: list it, refresh it from AWS.", no_args_is_help=True
)
cost_app.add_typer(prices_app)


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
