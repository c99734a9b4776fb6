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

import jsonschema

from scaleplane.guardrails import catalog, rules
from scaleplane.inputs import documents, problems

LEVELS = ("mandatory", "advisory", "disabled")


class PolicyConfigError(ValueError):
    """A bad policy config; the message names the file, the rule and the value."""


def load_config(path: Path) -> dict[str, Any]:
    """Read and check a policy config: every rule id, level and threshold known and of its type.

    Each rule's settings are held to the JSON schema its thresholds declare (the same schema the pack
    gives Pulumi), with unknown settings refused: a typo'd threshold would otherwise leave the default on.
    """
    try:
        text = path.read_text()
        data = json.loads(text, object_pairs_hook=_no_duplicates)
    except FileNotFoundError:
        raise PolicyConfigError(f"{path}: does not exist") from None
    except IsADirectoryError:
        raise PolicyConfigError(f"{path}: is a folder; give the policy config's JSON file") from None
    except UnicodeDecodeError:
        raise PolicyConfigError(f"{path}: not a text file; expected JSON") from None
    except OSError as exc:
        raise PolicyConfigError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    except json.JSONDecodeError as exc:
        raise PolicyConfigError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg})") from None
    except ValueError as exc:  # a key written twice: JSON would keep the last one silently
        raise PolicyConfigError(f"{path}: {exc}") from None
    if not isinstance(data, dict):
        raise PolicyConfigError(f"{path}: expected a JSON object of rule id -> settings")
    by_id = {rule.id: rule for rule in catalog.RULES}
    for key, value in data.items():
        if key != "all" and key not in by_id:
            hint = problems.unknown_key(key, ["all", *sorted(by_id)]).removeprefix("unknown key ")
            raise PolicyConfigError(f"{path}{_line(text, (key,))}: unknown rule {key!r} {hint}")
        found = _check_settings(key, value, by_id.get(key))
        if found:
            loc, problem = found
            raise PolicyConfigError(f"{path}{_line(text, loc)}: {problem}")
    return data


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    repeated = sorted({key for key in keys if keys.count(key) > 1})
    if repeated:
        raise ValueError(f"{repeated[0]!r} is written twice (JSON keeps only the last one)")
    return dict(pairs)


def _line(text: str, loc: tuple[int | str, ...]) -> str:
    """`:LINE` of the setting in the JSON text (read as YAML, which keeps marks), or nothing."""
    try:
        found = documents.load(text, "")
    except documents.DocumentError:
        return ""
    return f":{found[0].line_of(loc)}" if found else ""


def _check_settings(key: str, value: Any, rule: rules.Rule | None) -> tuple[tuple[str, ...], str] | None:
    """(where, what is wrong) for a rule's settings, or None when they are fine."""
    if isinstance(value, str) or value is None:
        level = value
    elif isinstance(value, dict):
        level = value.get("enforcementLevel")
    else:
        return (key,), f"{key}: must be an enforcement level or an object of settings, was {value!r}"
    if level is not None and level not in LEVELS:
        where = (key, "enforcementLevel") if isinstance(value, dict) else (key,)
        return where, f"{key}.enforcementLevel must be one of {LEVELS}, was {level!r}"
    if not isinstance(value, dict):
        return None
    thresholds = dict(rule.thresholds) if rule else {}
    properties: dict[str, Any] = {"enforcementLevel": {"enum": list(LEVELS)}, **thresholds}
    schema = {"type": "object", "properties": properties, "additionalProperties": False}
    error = jsonschema.exceptions.best_match(jsonschema.Draft7Validator(schema).iter_errors(value))
    if error is None:
        return None
    if error.validator == "additionalProperties":
        extra = sorted(set(value) - set(properties))
        known = ["enforcementLevel", *thresholds]
        return (key, extra[0]), f"{key}.{extra[0]}: {problems.unknown_key(extra[0], known)}"
    loc = (key, *(str(part) for part in error.absolute_path))
    return loc, f"{'.'.join(loc)}: {error.message}"


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
