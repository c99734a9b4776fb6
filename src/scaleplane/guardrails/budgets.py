"""A monthly budget: the stack's estimated cost, priced from the bundled catalog, must stay under it.

The estimate is `scaleplane cost estimate`'s (the same pure `cost.estimating` over the same inputs the
rule sees), at the counts the plan runs: node groups at desiredSize, read replicas as planned. Usage
the plan cannot know (data processed, log volume) is left out, as in the estimate, so the rule never
fails on a guess. The budget comes from the stack's `scaleplane:cost.monthlyBudgetUsd` (`scaleplane
check` reads it) or from the policy pack config's `monthlyBudgetUsd` (`pulumi preview --policy-pack`);
no budget, no check. The violation is reported on the biggest contributor and names the next ones.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from scaleplane.cost import catalogs, estimates, estimating
from scaleplane.guardrails import rules

RULE_ID = "stack-monthly-budget"
ZONE = re.compile(r"^([a-z]{2}(-[a-z]+)+-\d)[a-z]$")


def region_of(resources: Sequence[rules.Resource]) -> str | None:
    """The region the resources' availability zones are in (`us-east-1a` -> `us-east-1`)."""
    for resource in resources:
        found = ZONE.match(str(resource.get("availabilityZone") or ""))
        if found:
            return found.group(1)
    return None


def _over_budget(
    resources: Sequence[rules.Resource], settings: Mapping[str, Any]
) -> Iterable[tuple[rules.Resource | None, str]]:
    budget = settings.get("monthlyBudgetUsd")
    if budget is None:
        return
    region = settings.get("region") or region_of(resources) or "us-east-1"
    items = [estimates.Item(r.type, r.name, dict(r.props)) for r in resources]
    estimate = estimating.estimate(items, estimating.Inputs("stack", "stack", region, catalogs.bundled()))
    total = estimate.monthly_cost
    if total <= float(budget):
        return
    count = int(settings.get("contributors") or 3)
    biggest = ", ".join(f"{r.name} ${r.monthly_cost:,.2f}" for r in estimate.biggest(count))
    unpriced = len(estimate.with_status("unpriced"))
    tail = f"; {unpriced} resource(s) unpriced, not counted" if unpriced else ""
    top = estimate.biggest(1)[0]
    subject = next((r for r in resources if (r.type, r.name) == (top.resource_type, top.name)), None)
    yield (
        subject,
        f"estimated ${total:,.2f}/month is over the budget of ${float(budget):,.2f} by "
        f"${total - float(budget):,.2f}; biggest contributors: {biggest}{tail}",
    )


def with_stack_budget(config: Mapping[str, Any], budget: float | None) -> dict[str, Any]:
    """The policy config with the stack's budget filled in, unless the config sets one itself."""
    merged = dict(config)
    if budget is None:
        return merged
    entry = merged.get(RULE_ID)
    if isinstance(entry, str):
        entry = {"enforcementLevel": entry}
    entry = dict(entry or {})
    entry.setdefault("monthlyBudgetUsd", budget)
    merged[RULE_ID] = entry
    return merged


RULES = (
    rules.Rule(
        id=RULE_ID,
        severity="mandatory",
        description="The stack's estimated monthly cost (on-demand list prices) stays within its budget.",
        remediation="Shrink the biggest contributors (instance classes, node counts, replicas), or raise "
        "scaleplane:cost.monthlyBudgetUsd; see `scaleplane cost estimate`.",
        stack_check=_over_budget,
        thresholds={
            "monthlyBudgetUsd": {
                "type": ["number", "null"],
                "default": None,
                "description": "The budget in USD per month; null: no check (scaleplane check fills it "
                "from the stack's scaleplane:cost.monthlyBudgetUsd).",
            },
            "region": {
                "type": ["string", "null"],
                "default": None,
                "description": "The region to price in; null: from the resources' availability zones.",
            },
            "contributors": {
                "type": "integer",
                "default": 3,
                "description": "How many of the biggest contributors a violation names.",
            },
        },
    ),
)
