"""Alerting and recording rules as values, in the kubernetes-mixin style.

Every alert carries `severity` (critical pages, warning opens a ticket), and the annotations
`summary`, `description` and `runbook_url`. `signal` is not written out: it is the expression's
measured side (the alert without its comparison), which the tests evaluate against a real Prometheus
to prove the alert reads a series that exists.

`hold_scale` shortens every `for:` (the local demo's three minutes cannot wait fifteen): the rules stay
the same, only the time they must hold changes, and the generated files always use 1.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

RUNBOOK_DIR = "runbooks"
_DURATION = re.compile(r"^(\d+)([smh])$")
_SECONDS = {"s": 1, "m": 60, "h": 3600}


def kebab(name: str) -> str:
    """`ScaleplanePolicyAtMax` -> `scaleplane-policy-at-max` (runbook file names)."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "-", name).lower()


def runbook_path(alert: str) -> str:
    return f"{RUNBOOK_DIR}/{kebab(alert)}.md"


def scaled(duration: str, hold_scale: float) -> str:
    """A Prometheus duration times `hold_scale`, in whole seconds (never below 1 s)."""
    match = _DURATION.match(duration)
    if match is None:
        raise ValueError(f"not a duration of s/m/h, was {duration!r}")
    seconds = int(match.group(1)) * _SECONDS[match.group(2)]
    if hold_scale == 1:
        return duration
    return f"{max(1, round(seconds * hold_scale))}s"


@dataclass(frozen=True)
class Alert:
    name: str
    expr: str
    signal: str
    hold: str
    severity: str
    summary: str
    description: str
    labels: tuple[tuple[str, str], ...] = ()

    def rule(self, hold_scale: float = 1.0) -> dict[str, Any]:
        return {
            "alert": self.name,
            "expr": self.expr,
            "for": scaled(self.hold, hold_scale),
            "labels": {"severity": self.severity, **dict(self.labels)},
            "annotations": {
                "summary": self.summary,
                "description": self.description,
                "runbook_url": runbook_path(self.name),
            },
        }


@dataclass(frozen=True)
class Record:
    name: str
    expr: str
    labels: tuple[tuple[str, str], ...] = ()

    def rule(self) -> dict[str, Any]:
        rule: dict[str, Any] = {"record": self.name, "expr": self.expr}
        if self.labels:
            rule["labels"] = dict(self.labels)
        return rule


@dataclass(frozen=True)
class Group:
    name: str
    rules: tuple[Alert | Record, ...]
    interval: str | None = None

    @property
    def alerts(self) -> tuple[Alert, ...]:
        return tuple(r for r in self.rules if isinstance(r, Alert))

    def render(self, hold_scale: float = 1.0) -> dict[str, Any]:
        group: dict[str, Any] = {"name": self.name}
        if self.interval:
            group["interval"] = self.interval
        group["rules"] = [r.rule(hold_scale) if isinstance(r, Alert) else r.rule() for r in self.rules]
        return group
