"""Every rule of the pack, in the order reports list them; ids are unique and stable (configs use them)."""

from __future__ import annotations

from scaleplane.guardrails import (
    alerting,
    budgets,
    caches,
    clusters,
    databases,
    exported_series,
    identities,
    rules,
    tagging,
    workloads,
)

RULES: tuple[rules.Rule, ...] = (
    *databases.RULES,
    *caches.RULES,
    *clusters.RULES,
    *workloads.RULES,
    *identities.RULES,
    *exported_series.RULES,
    *tagging.RULES,
    *budgets.RULES,
    *alerting.RULES,
)


def by_id(rule_id: str) -> rules.Rule:
    for rule in RULES:
        if rule.id == rule_id:
            return rule
    raise KeyError(f"no guardrail rule {rule_id!r} (known: {', '.join(rule.id for rule in RULES)})")
