"""Refresh catalog prices from the AWS Price List API (boto3 `pricing`, `get_products`).

For every product of the catalog in the asked regions, one `get_products` query with the filters that
name exactly one on-demand SKU: instances by their attributes (EC2: Linux, shared tenancy, no
pre-installed software, capacity status Used; RDS: PostgreSQL and the deployment option; ElastiCache:
Redis), everything else by the billing usage type it is metered under (`CONTAINS` on `usagetype`,
whose region prefix differs per region). From the answer's OnDemand term the first price dimension
of the first tier (beginRange 0) in USD is the price; its source names the offer's SKU and effective
date, its date the day of the refresh.

A product the API returns nothing for keeps its bundled price and is reported as not refreshed; it is
never dropped or set to 0. The client is handed in (the CLI builds it with an endpoint, retries and
timeouts), so tests point it at a local server that answers in the API's documented shape.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from scaleplane.cost import catalogs

Filter = tuple[str, str, str]  # (Type, Field, Value)
# (service, product) -> the usage type it is metered under, without the region prefix (USE1-, USW2-)
USAGE_TYPES: dict[tuple[str, str], str] = {
    ("AmazonEKS", "cluster"): "AmazonEKS-Hours:perCluster",
    ("AmazonEC2", "nat-gateway"): "NatGateway-Hours",
    ("AmazonEC2", "nat-gateway-data"): "NatGateway-Bytes",
    ("AmazonVPC", "public-ipv4"): "PublicIPv4:InUseAddress",
    ("AmazonEBS", "volume:gp3"): "EBS:VolumeUsage.gp3",
    ("AmazonEBS", "volume:gp2"): "EBS:VolumeUsage.gp2",
    ("AWSELB", "application"): "LoadBalancerUsage",
    ("AWSELB", "application-lcu"): "LCUUsage",
    ("AWSELB", "network"): "LoadBalancerUsage",
    ("AWSELB", "network-lcu"): "LCUUsage",
    ("AmazonRDS", "storage:gp3:single-az"): "RDS:GP3-Storage",
    ("AmazonRDS", "storage:gp3:multi-az"): "RDS:Multi-AZ-GP3-Storage",
    ("AmazonRDS", "storage:gp2:single-az"): "RDS:GP2-Storage",
    ("AmazonRDS", "storage:gp2:multi-az"): "RDS:Multi-AZ-GP2-Storage",
    ("AmazonRDS", "backup-storage"): "RDS:ChargedBackupUsage",
    ("AmazonElastiCache", "snapshot-storage"): "BackupUsage",
    ("awskms", "key"): "KMS-Keys",
    ("AmazonCloudWatch", "logs-ingestion"): "DataProcessing-Bytes",
    ("AmazonCloudWatch", "logs-storage"): "TimedStorage-ByteHrs",
    ("AWSSecretsManager", "secret"): "AWSSecretsManager-Secrets",
}
# Where the Price List API files a product under another service code than the bill's grouping.
SERVICE_CODES = {"AmazonEBS": "AmazonEC2"}
LOAD_BALANCER_FAMILIES = {"application": "Load Balancer-Application", "network": "Load Balancer-Network"}


class RefreshError(Exception):
    """The Price List API answered with something unusable; the message names the product."""


@dataclass(frozen=True)
class Refresh:
    catalog: catalogs.Catalog  # the refreshed prices only
    missing: tuple[tuple[str, str, str], ...]  # (region, service, product) the API had nothing for


def filters(region: str, service: str, product: str) -> list[Filter]:
    """The get_products filters naming one on-demand SKU of a catalog product in a region."""
    match = [("TERM_MATCH", "regionCode", region)]
    kind, _, rest = product.partition(":")
    if service == "AmazonEC2" and kind == "instance":
        pairs = {
            "instanceType": rest,
            "operatingSystem": "Linux",
            "tenancy": "Shared",
            "preInstalledSw": "NA",
        }
        return match + [("TERM_MATCH", k, v) for k, v in {**pairs, "capacitystatus": "Used"}.items()]
    if service == "AmazonRDS" and kind == "postgres":
        klass, _, deployment = rest.partition(":")
        option = "Multi-AZ" if deployment == "multi-az" else "Single-AZ"
        pairs = {"instanceType": klass, "databaseEngine": "PostgreSQL", "deploymentOption": option}
        return match + [("TERM_MATCH", k, v) for k, v in pairs.items()]
    if service == "AmazonElastiCache" and kind == "node":
        return match + [
            ("TERM_MATCH", k, v) for k, v in {"instanceType": rest, "cacheEngine": "Redis"}.items()
        ]
    usage = USAGE_TYPES.get((service, product))
    if usage is None:
        raise RefreshError(f"no Price List query for {service} {product}")
    if service == "AWSELB":
        match.append(("TERM_MATCH", "productFamily", LOAD_BALANCER_FAMILIES[product.split("-")[0]]))
    match.append(("CONTAINS", "usagetype", usage))
    return match


def on_demand_usd(item: dict[str, Any], where: str) -> tuple[float, str]:
    """(USD per unit, 'SKU ..., effective ...') from one PriceList entry's first on-demand tier."""
    terms = (item.get("terms") or {}).get("OnDemand") or {}
    for term in terms.values():
        dimensions = sorted(
            (term.get("priceDimensions") or {}).values(), key=lambda d: float(d.get("beginRange") or 0)
        )
        for dimension in dimensions:
            usd = (dimension.get("pricePerUnit") or {}).get("USD")
            if usd is None:
                continue
            try:
                value = float(usd)
            except ValueError:
                raise RefreshError(f"{where}: pricePerUnit.USD is not a number, was {usd!r}") from None
            sku = (item.get("product") or {}).get("sku") or term.get("sku") or "?"
            return value, f"SKU {sku}, effective {str(term.get('effectiveDate', '?'))[:10]}"
    raise RefreshError(f"{where}: the answer has no OnDemand price in USD")


def refresh(
    client: Any,
    catalog: catalogs.Catalog,
    regions: Sequence[str],
    today: str,
    progress: Callable[[str], None] = lambda _: None,
) -> Refresh:
    """Ask the API for every product of `catalog` in `regions`; `client` is a boto3 `pricing` client."""
    wanted = sorted({(service, product) for _, service, product in catalog.prices})
    prices: dict[tuple[str, str, str], catalogs.Price] = {}
    missing: list[tuple[str, str, str]] = []
    for region in regions:
        for service, product in wanted:
            key = (region, service, product)
            code = SERVICE_CODES.get(service, service)
            query = [{"Type": t, "Field": f, "Value": v} for t, f, v in filters(region, service, product)]
            answer = client.get_products(
                ServiceCode=code, Filters=query, FormatVersion="aws_v1", MaxResults=10
            )
            items = [json.loads(text) for text in answer.get("PriceList") or []]
            progress(f"{region} {service} {product}: {len(items)} offer(s)")
            if not items:
                missing.append(key)
                continue
            usd, offer = on_demand_usd(items[0], f"{code} {product} in {region}")
            unit = _unit(catalog, service, product)
            source = f"AWS Price List API {code} {offer}"
            prices[key] = catalogs.Price(region, service, product, unit, usd, source, today)
    note = f"Refreshed from the AWS Price List API on {today} (on-demand, first tier)."
    return Refresh(catalogs.Catalog(prices, note=note), tuple(missing))


def _unit(catalog: catalogs.Catalog, service: str, product: str) -> str:
    return next(p.unit for p in catalog.prices.values() if (p.service, p.product) == (service, product))


def regions_of(catalog: catalogs.Catalog, asked: Iterable[str]) -> list[str]:
    chosen = list(asked) or catalog.regions
    return sorted(set(chosen))
