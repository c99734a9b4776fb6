"""The bundled catalog against AWS's published on-demand prices, and the catalog file's validation.

Each expected price below is written here from the AWS pricing page named next to it (us-east-1,
Linux / PostgreSQL / Redis OSS, on-demand, as published on the page when transcribed on 2026-12-01),
independently of prices.json, so a typo in the catalog fails here.
"""

from __future__ import annotations

import json

import pytest

from scaleplane.cost import catalogs

PUBLISHED = [
    # (service, product, USD, unit, source)
    ("AmazonEKS", "cluster", 0.10, "Hrs", "https://aws.amazon.com/eks/pricing/ (standard support)"),
    ("AmazonEC2", "instance:m6i.large", 0.096, "Hrs", "https://aws.amazon.com/ec2/pricing/on-demand/"),
    ("AmazonEC2", "instance:m6i.xlarge", 0.192, "Hrs", "https://aws.amazon.com/ec2/pricing/on-demand/"),
    ("AmazonEC2", "instance:c6i.xlarge", 0.17, "Hrs", "https://aws.amazon.com/ec2/pricing/on-demand/"),
    ("AmazonEC2", "instance:t3.large", 0.0832, "Hrs", "https://aws.amazon.com/ec2/pricing/on-demand/"),
    ("AmazonEC2", "nat-gateway", 0.045, "Hrs", "https://aws.amazon.com/vpc/pricing/ (NAT gateway)"),
    ("AmazonVPC", "public-ipv4", 0.005, "Hrs", "https://aws.amazon.com/vpc/pricing/ (public IPv4)"),
    (
        "AmazonRDS",
        "postgres:db.t4g.medium:single-az",
        0.065,
        "Hrs",
        "https://aws.amazon.com/rds/postgresql/pricing/",
    ),
    (
        "AmazonRDS",
        "postgres:db.r6g.large:multi-az",
        0.45,
        "Hrs",
        "https://aws.amazon.com/rds/postgresql/pricing/",
    ),
    ("AmazonRDS", "storage:gp3:single-az", 0.115, "GB-Mo", "https://aws.amazon.com/rds/postgresql/pricing/"),
    (
        "AmazonElastiCache",
        "node:cache.r6g.large",
        0.206,
        "Hrs",
        "https://aws.amazon.com/elasticache/pricing/",
    ),
    ("AmazonEBS", "volume:gp3", 0.08, "GB-Mo", "https://aws.amazon.com/ebs/pricing/"),
    ("awskms", "key", 1.0, "Mo", "https://aws.amazon.com/kms/pricing/"),
    ("AmazonCloudWatch", "logs-ingestion", 0.50, "GB", "https://aws.amazon.com/cloudwatch/pricing/"),
]


@pytest.mark.parametrize(("service", "product", "usd", "unit", "source"), PUBLISHED)
def test_bundled_prices_match_the_published_ones(
    service: str, product: str, usd: float, unit: str, source: str
) -> None:
    price = catalogs.bundled().get("us-east-1", service, product)
    assert price is not None, f"{service} {product} missing (published at {source})"
    assert (price.usd, price.unit) == (usd, unit), source
    assert price.source.startswith("https://aws.amazon.com/") and price.date == "2026-12-01"


def test_every_bundled_price_names_its_source_and_date() -> None:
    catalog = catalogs.bundled()
    assert {"us-east-1", "us-east-2", "us-west-2"} <= set(catalog.regions)
    for price in catalog.prices.values():
        assert price.source.startswith("https://aws.amazon.com/"), price
        assert len(price.date) == 10 and price.usd > 0, price


def test_a_written_catalog_reads_back_the_same() -> None:
    catalog = catalogs.bundled()
    assert catalogs.parse(catalog.to_json(), "again.json").prices == catalog.prices


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"usd": -1}, "prices[0].usd: must be a number >= 0, was -1"),
        ({"usd": "cheap"}, "prices[0].usd: must be a number >= 0, was 'cheap'"),
        ({"source": ""}, "prices[0].source: must be a non-empty string, was ''"),
        ({"date": None}, "prices[0].date: must be a non-empty string, was None"),
    ],
)
def test_a_bad_catalog_entry_names_the_file_the_entry_and_the_field(
    entry: dict[str, object], message: str
) -> None:
    good = {
        "region": "r",
        "service": "s",
        "product": "p",
        "unit": "Hrs",
        "usd": 1,
        "source": "x",
        "date": "d",
    }
    text = json.dumps({"prices": [{**good, **entry}]})
    with pytest.raises(catalogs.CatalogError) as raised:
        catalogs.parse(text, "mine.json")
    assert str(raised.value) == "mine.json: " + message


def test_a_catalog_that_is_not_json_says_where() -> None:
    with pytest.raises(catalogs.CatalogError, match=r"^mine.json: not valid JSON .* line 1"):
        catalogs.parse("{nope", "mine.json")
