"""`scaleplane cost prices refresh` against a local server answering in the Price List API's shape."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from scaleplane.cli import app
from scaleplane.cli.cost import costing
from scaleplane.cost import catalogs
from tests.support import pricelist

RUNNER = CliRunner()
EC2 = {"regionCode": "us-east-1", "operatingSystem": "Linux", "tenancy": "Shared", "preInstalledSw": "NA"}
RDS = {"regionCode": "us-east-1", "databaseEngine": "PostgreSQL", "deploymentOption": "Multi-AZ"}
EKS = {"regionCode": "us-east-1", "usagetype": "USE1-AmazonEKS-Hours:perCluster"}
OFFERS = [
    pricelist.Offer(
        "AmazonEC2", "SKUM6ILARGE", {**EC2, "instanceType": "m6i.large", "capacitystatus": "Used"}, "0.096"
    ),
    # a second capacity status of the same type must not be taken for the on-demand price
    pricelist.Offer(
        "AmazonEC2",
        "SKURESERVED",
        {**EC2, "instanceType": "m6i.large", "capacitystatus": "AllocatedCapacity"},
        "0.01",
    ),
    pricelist.Offer("AmazonRDS", "SKUPGR6G", {**RDS, "instanceType": "db.r6g.large"}, "0.4500000000"),
    pricelist.Offer(
        "AmazonEC2", "SKUNAT", {"regionCode": "us-east-1", "usagetype": "USE1-NatGateway-Hours"}, "0.048"
    ),
    pricelist.Offer("AmazonEKS", "SKUEKS", EKS, "0.1000000000"),
]


def _refresh(url: str, out: Path, *extra: str) -> object:
    args = [
        "cost",
        "prices",
        "refresh",
        "--region",
        "us-east-1",
        "--endpoint-url",
        url,
        "-o",
        str(out),
        *extra,
    ]
    return RUNNER.invoke(app.app, args)


@pytest.fixture(autouse=True)
def _credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    # A signed request needs some key; the local server does not check it.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL_PRICING", raising=False)


def test_refresh_writes_the_apis_prices_with_their_offer_and_keeps_the_rest(tmp_path: Path) -> None:
    out = tmp_path / "prices.json"
    with pricelist.serving(OFFERS) as server:
        result = RUNNER.invoke(
            app.app,
            [
                "cost",
                "prices",
                "refresh",
                "--region",
                "us-east-1",
                "--endpoint-url",
                server.url,
                "-o",
                str(out),
            ],
        )
    assert result.exit_code == 0, result.output
    refreshed = catalogs.parse(out.read_text(), str(out))
    m6i = refreshed.get("us-east-1", "AmazonEC2", "instance:m6i.large")
    assert m6i is not None and m6i.usd == 0.096 and "SKU SKUM6ILARGE, effective 2026-11-01" in m6i.source
    nat = refreshed.get("us-east-1", "AmazonEC2", "nat-gateway")
    assert nat is not None and nat.usd == 0.048 and nat.unit == "Hrs"
    assert refreshed.get("us-east-1", "AmazonRDS", "postgres:db.r6g.large:multi-az").usd == 0.45  # type: ignore[union-attr]
    assert refreshed.get("us-east-1", "AmazonEC2", "instance:c6i.xlarge") is None  # not offered: not invented
    assert "not refreshed (kept the bundled price): us-east-1 AmazonEC2 instance:c6i.xlarge" in result.stdout
    # what was asked: the documented operation with exact-match filters naming one SKU
    ec2 = next(
        r
        for r in server.requests
        if {"Type": "TERM_MATCH", "Field": "instanceType", "Value": "m6i.large"} in r["Filters"]
    )
    assert ec2["ServiceCode"] == "AmazonEC2" and ec2["FormatVersion"] == "aws_v1"
    # and the estimate reads the refreshed price over the bundled one
    overlaid = costing.load_catalog(out)
    assert overlaid.get("us-east-1", "AmazonEC2", "nat-gateway").usd == 0.048  # type: ignore[union-attr]
    assert overlaid.get("us-east-1", "AmazonEC2", "instance:c6i.xlarge").usd == 0.17  # type: ignore[union-attr]


def test_an_unreachable_endpoint_is_one_error_line(tmp_path: Path) -> None:
    with pricelist.serving([]) as server:
        url = server.url  # the server is gone after the block: nothing listens there any more
    result: Any = _refresh(url, tmp_path / "p.json", "--timeout", "2")
    assert result.exit_code == 1
    assert (
        result.stderr.startswith("error: cannot reach the Price List API")
        and "Traceback" not in result.stderr
    )
    assert not (tmp_path / "p.json").exists()


def test_an_unknown_region_is_refused_before_any_request(tmp_path: Path) -> None:
    result = RUNNER.invoke(
        app.app, ["cost", "prices", "refresh", "--region", "mars-1", "-o", str(tmp_path / "p.json")]
    )
    assert result.exit_code == 2 and "--region: no catalog products in 'mars-1'" in result.stderr


def test_a_price_that_is_not_a_number_names_the_product(tmp_path: Path) -> None:
    with pricelist.serving([pricelist.Offer("AmazonEKS", "SKUEKS", EKS, "ten")]) as server:
        result: Any = _refresh(server.url, tmp_path / "p.json")
    assert result.exit_code == 1
    assert "AmazonEKS cluster in us-east-1: pricePerUnit.USD is not a number, was 'ten'" in result.stderr
    assert server.requests[-1]["ServiceCode"] == "AmazonEKS"  # it stopped at the bad answer
