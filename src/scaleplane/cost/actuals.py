"""What the bill says: AWS Cost Explorer spend (boto3 `ce`, GetCostAndUsage) and how it compares.

`spend` asks Cost Explorer for the unblended cost per day over a period, grouped by a tag or by service,
following NextPageToken. `compare` sets the spend per service next to the estimate for the same days
(the monthly estimate times days / 30.42, a month of 730 hours) and names each variance:

    as estimated       within +-10 % of the estimate
    over / under       beyond it, with the amount and the percentage
    not estimated      spend on a service the estimate has no resource for (data transfer, support, tax)
    no spend recorded  an estimated service with nothing on the bill (not deployed, or not tagged)

Cost Explorer names services its own way ("EC2 - Other" holds EBS volumes and NAT gateways), so each
catalog service maps to the name the bill uses for its product (`BILL_SERVICES`).
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from scaleplane.cost import catalogs, estimates

TOLERANCE = 0.10
DAYS_PER_MONTH = catalogs.HOURS_PER_MONTH / 24
# (catalog service, product prefix) -> Cost Explorer's SERVICE dimension value
BILL_SERVICES: dict[tuple[str, str], str] = {
    ("AmazonEC2", "instance"): "Amazon Elastic Compute Cloud - Compute",
    ("AmazonEC2", "nat-gateway"): "EC2 - Other",
    ("AmazonEC2", "nat-gateway-data"): "EC2 - Other",
    ("AmazonEBS", ""): "EC2 - Other",
    ("AmazonVPC", ""): "Amazon Virtual Private Cloud",
    ("AmazonEKS", ""): "Amazon Elastic Container Service for Kubernetes",
    ("AmazonRDS", ""): "Amazon Relational Database Service",
    ("AmazonElastiCache", ""): "Amazon ElastiCache",
    ("awskms", ""): "AWS Key Management Service",
    ("AmazonCloudWatch", ""): "AmazonCloudWatch",
    ("AWSSecretsManager", ""): "AWS Secrets Manager",
    ("AWSELB", ""): "Amazon Elastic Load Balancing",
}


@dataclass(frozen=True)
class Spend:
    day: str  # ISO date the amount was spent on
    group: str  # the tag value (`KEY$value` as Cost Explorer returns it, without the `KEY$`) or the service
    usd: float


@dataclass(frozen=True)
class Variance:
    service: str
    estimated_usd: float
    actual_usd: float
    verdict: str  # as estimated / over / under / not estimated / no spend recorded

    @property
    def difference_usd(self) -> float:
        return self.actual_usd - self.estimated_usd


def period(since_days: int, today: datetime.date) -> tuple[str, str]:
    """Cost Explorer's TimePeriod: the last `since_days` whole days (End is exclusive)."""
    return (today - datetime.timedelta(days=since_days)).isoformat(), today.isoformat()


def spend(
    client: Any,
    start: str,
    end: str,
    group_by: tuple[str, str],
    filters: Mapping[str, Any] | None = None,
) -> list[Spend]:
    """Daily unblended cost in [start, end) grouped by ("TAG", key) or ("DIMENSION", "SERVICE")."""
    request: dict[str, Any] = {
        "TimePeriod": {"Start": start, "End": end},
        "Granularity": "DAILY",
        "Metrics": ["UnblendedCost"],
        "GroupBy": [{"Type": group_by[0], "Key": group_by[1]}],
    }
    if filters:
        request["Filter"] = dict(filters)
    rows: list[Spend] = []
    while True:
        answer = client.get_cost_and_usage(**request)
        for result in answer.get("ResultsByTime") or []:
            day = (result.get("TimePeriod") or {}).get("Start", "")
            for group in result.get("Groups") or []:
                key = (group.get("Keys") or [""])[0]
                value = key.split("$", 1)[1] if group_by[0] == "TAG" and "$" in key else key
                amount = ((group.get("Metrics") or {}).get("UnblendedCost") or {}).get("Amount", "0")
                rows.append(Spend(day, value or "(untagged)", float(amount)))
        token = answer.get("NextPageToken")
        if not token:
            return rows
        request["NextPageToken"] = token


def totals(rows: Sequence[Spend]) -> dict[str, float]:
    found: dict[str, float] = {}
    for row in rows:
        found[row.group] = found.get(row.group, 0.0) + row.usd
    return dict(sorted(found.items(), key=lambda item: -item[1]))


def bill_service(price: catalogs.Price) -> str:
    kind = price.product.split(":", 1)[0]
    return BILL_SERVICES.get((price.service, kind)) or BILL_SERVICES.get((price.service, ""), price.service)


def estimated_by_service(estimate: estimates.Estimate, days: float) -> dict[str, float]:
    found: dict[str, float] = {}
    for resource in estimate.resources:
        for component in resource.components:
            if component.price is None or component.monthly_cost is None:
                continue
            service = bill_service(component.price)
            found[service] = found.get(service, 0.0) + component.monthly_cost * days / DAYS_PER_MONTH
    return found


def compare(estimated: Mapping[str, float], actual: Mapping[str, float]) -> list[Variance]:
    rows = []
    for service in sorted(
        set(estimated) | set(actual), key=lambda s: -max(estimated.get(s, 0), actual.get(s, 0))
    ):
        planned, spent = estimated.get(service, 0.0), actual.get(service, 0.0)
        if planned == 0:
            verdict = "not estimated"
        elif spent == 0:
            verdict = "no spend recorded"
        elif abs(spent - planned) <= TOLERANCE * planned:
            verdict = "as estimated"
        else:
            verdict = "over" if spent > planned else "under"
        rows.append(Variance(service, planned, spent, verdict))
    return rows
