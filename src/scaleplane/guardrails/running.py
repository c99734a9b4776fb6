"""The offline runner: the same rules over a recorded plan, with the pack's config file format.

The config is the one `pulumi preview --policy-pack policies --policy-pack-config FILE` reads:
`{"all": "advisory", "rds-backup-retention": {"enforcementLevel": "mandatory", "minDays": 14},
"elasticache-auth": "disabled"}`. Enforcement levels: mandatory, advisory, disabled.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from scaleplane.guardrails import catalog, rules

LEVELS = ("mandatory", "advisory", "disabled")


class PolicyConfigError(ValueError):
    """A bad policy config; the message names the file, the rule and the value."""


def load_config(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise PolicyConfigError(f"{path}: cannot read the policy config ({exc})") from None
    if not isinstance(data, dict):
        raise PolicyConfigError(f"{path}: expected a JSON object of rule id -> settings")
    known = {rule.id for rule in catalog.RULES} | {"all"}
    for key, value in data.items():
        if key not in known:
            raise PolicyConfigError(f"{path}: unknown rule {key!r} (known: {', '.join(sorted(known))})")
        level = value if isinstance(value, str) else (value or {}).get("enforcementLevel")
        if level is not None and level not in LEVELS:
            raise PolicyConfigError(f"{path}: {key}.enforcementLevel must be one of {LEVELS}, was {level!r}")
    return data


def enforcement(rule: rules.Rule, config: Mapping[str, Any]) -> str:
    level: str = rule.severity
    for key in ("all", rule.id):
        value = config.get(key)
        chosen = value if isinstance(value, str) else (value or {}).get("enforcementLevel")
        level = chosen or level
    return level


def overrides(rule: rules.Rule, config: Mapping[str, Any]) -> dict[str, Any]:
    value = config.get(rule.id)
    return dict(value) if isinstance(value, dict) else {}


def evaluate(
    resources: Sequence[rules.Resource],
    config: Mapping[str, Any] | None = None,
    ruleset: Sequence[rules.Rule] = catalog.RULES,
) -> list[rules.Violation]:
    config = config or {}
    found: list[rules.Violation] = []
    for rule in ruleset:
        level = enforcement(rule, config)
        if level == "disabled":
            continue
        settings = rule.settings(overrides(rule, config))
        if rule.check is not None:
            for resource in resources:
                if rule.applies_to(resource):
                    found += [
                        rules.Violation(rule, resource, msg, level) for msg in rule.check(resource, settings)
                    ]
        if rule.stack_check is not None:
            found += [
                rules.Violation(rule, resource, msg, level)
                for resource, msg in rule.stack_check(resources, settings)
            ]
    return found


def mandatory(violations: Sequence[rules.Violation]) -> list[rules.Violation]:
    return [violation for violation in violations if violation.enforcement == "mandatory"]
