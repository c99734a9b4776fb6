"""`scaleplane cost actual` against Cost Explorer in a real moto_server, compared with the estimate."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import requests
from typer.testing import CliRunner

from scaleplane.cli import app
from scaleplane.cli.cost import costing
from scaleplane.cost import actuals, estimates

pytestmark = pytest.mark.servers
RUNNER = CliRunner()


def _groups(day: str, amounts: dict[str, float]) -> dict[str, Any]:
    return {
        "TimePeriod": {"Start": day, "End": day},
        "Total": {},
        "Groups": [
            {"Keys": [key], "Metrics": {"UnblendedCost": {"Amount": f"{usd:.4f}", "Unit": "USD"}}}
            for key, usd in amounts.items()
        ],
        "Estimated": False,
    }


def _inject(url: str, *results: dict[str, Any]) -> None:
    # moto answers each distinct GetCostAndUsage request with the next of these, in order.
    body = {"results": list(results)}
    requests.post(f"{url}/moto-api/static/ce/cost-and-usage-results", json=body, timeout=5).raise_for_status()


def _estimated_30_days() -> dict[str, float]:
    estimate: estimates.Estimate = costing.build_estimate("aws-prod")
    return actuals.estimated_by_service(estimate, 30)


@pytest.mark.slow  # the first plan of the process imports the Pulumi SDKs (most of its 10 s)
def test_actual_groups_by_tag_and_names_each_services_variance(ce_url: str, tmp_path: Path) -> None:
    planned = _estimated_30_days()
    rds, cache, compute = (
        "Amazon Relational Database Service",
        "Amazon ElastiCache",
        "Amazon Elastic Compute Cloud - Compute",
    )
    by_tag = {
        "ResultsByTime": [
            _groups("2026-11-01", {"cost-center$cc-1042": 70.0, "cost-center$": 5.0}),
            _groups("2026-11-02", {"cost-center$cc-1042": 72.5}),
        ]
    }
    by_service = {
        "ResultsByTime": [
            _groups(
                "2026-11-01",
                {
                    rds: planned[rds] * 1.04,  # within 10 %: as estimated
                    cache: planned[cache] * 1.5,  # over
                    compute: planned[compute] * 0.5,  # under
                    "AWS Data Transfer": 12.0,  # nothing in the estimate bills data transfer
                },
            )
        ]
    }
    _inject(ce_url, by_tag, by_service)
    args = ["cost", "actual", "--since", "30d", "--group-by", "tag:cost-center", "--stack", "aws-prod"]
    result = RUNNER.invoke(app.app, [*args, "--endpoint-url", ce_url, "--json", "--report", str(tmp_path)])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["groups"] == {"cc-1042": 142.5, "(untagged)": 5.0}
    verdicts = {row["service"]: row["verdict"] for row in document["services"]}
    assert verdicts[rds] == "as estimated" and verdicts[cache] == "over" and verdicts[compute] == "under"
    assert verdicts["AWS Data Transfer"] == "not estimated"
    assert verdicts["AWS Key Management Service"] == "no spend recorded"
    over = next(row for row in document["services"] if row["service"] == cache)
    assert over["difference"] == pytest.approx(planned[cache] * 0.5, abs=0.01)
    page = (tmp_path / "cost-actual.md").read_text()
    assert "| Amazon ElastiCache |" in page and "over" in page
    assert (tmp_path / "estimate-vs-actual.png").stat().st_size > 5000
    assert (tmp_path / "spend-over-time.png").stat().st_size > 5000


def test_actual_prints_tables_without_a_stack(ce_url: str) -> None:
    _inject(
        ce_url,
        {"ResultsByTime": [_groups("2026-11-01", {"Amazon ElastiCache": 3.0, "AmazonCloudWatch": 1.0})]},
    )
    args = ["cost", "actual", "--since", "7d", "--group-by", "service", "--endpoint-url", ce_url]
    result = RUNNER.invoke(app.app, args)
    assert result.exit_code == 0, result.output
    assert "Amazon ElastiCache" in result.stdout and "$4.00" in result.stdout


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("--since", "a month"), 2, "--since: expected whole days like 30d (1d..400d), was 'a month'"),
        (("--group-by", "owner"), 2, "--group-by: expected tag:KEY or service, was 'owner'"),
        (("--endpoint-url", "http://127.0.0.1:9"), 1, "cannot reach Cost Explorer"),
    ],
)
def test_bad_input_and_an_unreachable_endpoint_are_one_error_line(
    ce_url: str, args: tuple[str, ...], code: int, message: str
) -> None:
    result = RUNNER.invoke(app.app, ["cost", "actual", *args])
    assert result.exit_code == code
    assert (
        result.stderr.startswith("error: ") and message in result.stderr and "Traceback" not in result.stderr
    )
