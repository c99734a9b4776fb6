"""An estimate in Infracost's JSON output format, with `diff` against a baseline (`--compare`).

The shape is Infracost's version 0.2 (money as decimal strings): top-level `version`, `currency`,
`projects[]` (each with `name`, `metadata`, `breakdown`, `pastBreakdown`/`diff` when compared, and
`summary`), `totalHourlyCost`, `totalMonthlyCost` and, when compared, `pastTotalMonthlyCost` and
`diffTotalMonthlyCost`. Tools that read Infracost's JSON read ours; scaleplane's own additions sit under
`metadata.scaleplane` (price sources, unpriced resources, autoscaled ranges), where Infracost keeps
tool-specific data.

Resources of two stacks are matched by type and by name without the stack's prefix
(`scaleplane-prod-db-primary` and `scaleplane-dev-db-primary` are both `db-primary`): the platform
names every child after its root component.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from scaleplane.cost import catalogs, estimates

VERSION = "0.2"
ROOT_TYPE = "scaleplane:platform:Platform"


def money(value: float | None) -> str | None:
    """Infracost's money: a decimal string without float noise (`73`, `0.1`, `8.4125`)."""
    if value is None:
        return None
    text = f"{value:.10f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def component_json(component: estimates.Component) -> dict[str, Any]:
    cost = component.monthly_cost
    return {
        "name": component.name,
        "unit": component.unit,
        "hourlyQuantity": money(component.hourly_quantity),
        "monthlyQuantity": money(component.monthly_quantity),
        "price": money(component.price.usd) if component.price else None,
        "hourlyCost": money(None if cost is None else cost / catalogs.HOURS_PER_MONTH),
        "monthlyCost": money(cost),
        "usageBased": bool(component.usage_key),
    }


def range_json(part: estimates.Range) -> dict[str, Any]:
    return {
        "what": part.what,
        "minReplicas": part.min_replicas,
        "maxReplicas": part.max_replicas,
        "expectedReplicas": round(part.expected_replicas, 3),
        "plannedReplicas": part.planned_replicas,
        "basis": part.basis,
        "inTotal": part.in_total,
        "minMonthlyCost": money(part.monthly(part.min_replicas)),
        "expectedMonthlyCost": money(part.monthly(part.expected_replicas)),
        "maxMonthlyCost": money(part.monthly(part.max_replicas)),
    }


def resource_json(resource: estimates.ResourceCost) -> dict[str, Any]:
    ranges = [range_json(part) for part in resource.ranges]
    return {
        "name": resource.name,
        "resourceType": resource.resource_type,
        "tags": {},
        "metadata": {"scaleplane": {"autoscaled": ranges}} if ranges else {},
        "hourlyCost": money(resource.monthly_cost / catalogs.HOURS_PER_MONTH),
        "monthlyCost": money(resource.monthly_cost),
        "costComponents": [component_json(c) for c in resource.components],
        "subresources": [],
    }


def breakdown_json(resources: Sequence[estimates.ResourceCost]) -> dict[str, Any]:
    monthly = sum(r.monthly_cost for r in resources)
    usage = sum(c.monthly_cost or 0.0 for r in resources for c in r.components if c.usage_key)
    return {
        # As Infracost: priced resources; free ones only when they carry an autoscaled range.
        "resources": [resource_json(r) for r in resources if r.status == "priced" or r.ranges],
        "totalHourlyCost": money(monthly / catalogs.HOURS_PER_MONTH),
        "totalMonthlyCost": money(monthly),
        "totalMonthlyUsageCost": money(usage),
    }


def summary_json(estimate: estimates.Estimate) -> dict[str, Any]:
    def counts(status: estimates.Status) -> dict[str, int]:
        found: dict[str, int] = {}
        for resource in estimate.with_status(status):
            found[resource.resource_type] = found.get(resource.resource_type, 0) + 1
        return dict(sorted(found.items()))

    return {
        "totalDetectedResources": len(estimate.resources),
        "totalSupportedResources": len(estimate.with_status("priced")),
        "totalUnsupportedResources": len(estimate.with_status("unpriced")),
        "totalUsageBasedResources": sum(
            1 for r in estimate.resources if any(c.usage_key for c in r.components)
        ),
        "totalNoPriceResources": len(estimate.with_status("free")),
        "unsupportedResourceCounts": counts("unpriced"),
        "noPriceResourceCounts": counts("free"),
    }


def match_key(estimate: estimates.Estimate, resource: estimates.ResourceCost) -> tuple[str, str]:
    roots = [r.name for r in estimate.resources if r.resource_type == ROOT_TYPE]
    name = resource.name
    for root in roots:
        if name == root:
            return resource.resource_type, ""
        if name.startswith(root + "-"):
            return resource.resource_type, name[len(root) + 1 :]
    return resource.resource_type, name


def diff_resources(
    current: estimates.Estimate, past: estimates.Estimate
) -> list[tuple[str, str, float, float]]:
    """(type, name, past monthly, current monthly) for every resource whose cost differs."""
    before = {match_key(past, r): r.monthly_cost for r in past.resources if r.status == "priced"}
    after = {match_key(current, r): r.monthly_cost for r in current.resources if r.status == "priced"}
    rows = []
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key, 0.0), after.get(key, 0.0)
        if abs(new - old) > 1e-9:
            rows.append((key[0], key[1], old, new))
    return rows


def _project(estimate: estimates.Estimate) -> dict[str, Any]:
    low, expected, high = estimate.total_range()
    return {
        "name": f"{estimate.project}/{estimate.stack}",
        "metadata": {
            "path": f"Pulumi.{estimate.stack}.yaml",
            "type": "pulumi_offline_plan",
            "region": estimate.region,
            "scaleplane": {
                "roots": [r.name for r in estimate.resources if r.resource_type == ROOT_TYPE],
                "usageFile": estimate.usage_file or None,
                "priceNote": estimate.catalog_note,
                "prices": [p.as_dict() for p in estimate.sources],
                "unpriced": [
                    {"name": r.name, "resourceType": r.resource_type, "reason": r.note}
                    for r in estimate.with_status("unpriced")
                ],
                "monthlyCostRange": {"min": money(low), "expected": money(expected), "max": money(high)},
            },
        },
        "breakdown": breakdown_json(estimate.resources),
        "summary": summary_json(estimate),
    }


def output(
    estimate: estimates.Estimate, generated_at: str, past: estimates.Estimate | None = None
) -> dict[str, Any]:
    """The whole Infracost-shaped document; `past` (the `--compare` baseline) adds the diff."""
    project = _project(estimate)
    document: dict[str, Any] = {"version": VERSION, "metadata": {"tool": "scaleplane cost estimate"}}
    document["currency"] = "USD"
    document["projects"] = [project]
    document["totalHourlyCost"] = money(estimate.hourly_cost)
    document["totalMonthlyCost"] = money(estimate.monthly_cost)
    if past is not None:
        rows = diff_resources(estimate, past)
        project["pastBreakdown"] = breakdown_json(past.resources)
        project["diff"] = {
            "resources": [
                {
                    "name": name,
                    "resourceType": type_,
                    "pastMonthlyCost": money(old),
                    "monthlyCost": money(new - old),
                    "hourlyCost": money((new - old) / catalogs.HOURS_PER_MONTH),
                    # Infracost's diff resources carry these too; the difference is per resource here.
                    "tags": {},
                    "metadata": {},
                    "costComponents": [],
                    "subresources": [],
                }
                for type_, name, old, new in rows
            ],
            "totalHourlyCost": money((estimate.monthly_cost - past.monthly_cost) / catalogs.HOURS_PER_MONTH),
            "totalMonthlyCost": money(estimate.monthly_cost - past.monthly_cost),
        }
        document["pastTotalHourlyCost"] = money(past.hourly_cost)
        document["pastTotalMonthlyCost"] = money(past.monthly_cost)
        document["diffTotalHourlyCost"] = money(estimate.hourly_cost - past.hourly_cost)
        document["diffTotalMonthlyCost"] = money(estimate.monthly_cost - past.monthly_cost)
    document["timeGenerated"] = generated_at
    document["summary"] = summary_json(estimate)
    return document


def parse(document: Any, source: str) -> estimates.Estimate:
    """An estimate back from Infracost-shaped JSON (ours, or Infracost's own), for `--compare FILE`.

    Only what a comparison needs survives: each resource's name, type and monthly cost.
    """
    projects = document.get("projects") if isinstance(document, dict) else None
    if not isinstance(projects, list) or not projects:
        raise ValueError(f"{source}: not Infracost-shaped JSON: no 'projects' list")
    resources = []
    for p_index, project in enumerate(projects):
        listed = ((project or {}).get("breakdown") or {}).get("resources")
        if not isinstance(listed, list):
            raise ValueError(f"{source}: projects[{p_index}].breakdown.resources: missing or not a list")
        for index, resource in enumerate(listed):
            where = f"{source}: projects[{p_index}].breakdown.resources[{index}]"
            if not isinstance(resource, dict) or not isinstance(resource.get("name"), str):
                raise ValueError(f"{where}: expected an object with a 'name'")
            try:
                monthly = float(resource.get("monthlyCost") or 0)
            except (TypeError, ValueError):
                raise ValueError(
                    f"{where}.monthlyCost: not a number, was {resource.get('monthlyCost')!r}"
                ) from None
            type_ = str(resource.get("resourceType") or "")
            price = catalogs.Price("", "imported", resource["name"], "Mo", monthly, source, "")
            component = estimates.Component("monthly cost", "months", 1, price)
            resources.append(estimates.ResourceCost(resource["name"], type_, "priced", (component,)))
    roots = ((projects[0].get("metadata") or {}).get("scaleplane") or {}).get("roots") or []
    resources += [estimates.ResourceCost(str(root), ROOT_TYPE, "free") for root in roots]
    name = str(projects[0].get("name") or source)
    project, _, stack = name.rpartition("/")
    return estimates.Estimate(project or name, stack or name, "", tuple(resources))
