"""What a guardrail rule is: an id, a severity, what it asks and how to fix it, thresholds, a check.

A rule's check is a plain function of a resource's inputs (engine names, camelCase, as both Pulumi's
policy engine and the offline plan see them) and of the rule's settings (its thresholds, defaults
overridden by config). Resource rules look at one resource; stack rules at all of them (a replica
count, a PodDisruptionBudget that must exist next to a Deployment).

Values a preview cannot know yet (an ARN of something not created) arrive as None or `<computed>`;
checks treat them as "not known", never as a violation, so a first preview does not fail on them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

Severity = Literal["mandatory", "advisory"]
COMPUTED = "<computed>"


@dataclass(frozen=True)
class Resource:
    """One resource as a rule sees it."""

    type: str
    name: str
    props: Mapping[str, Any]
    urn: str = ""

    def get(self, key: str, default: Any = None) -> Any:
        value = self.props.get(key, default)
        return default if value == COMPUTED else value

    def unknown(self, key: str) -> bool:
        """True when a preview cannot know the value yet: the rule must not judge it."""
        return self.props.get(key) == COMPUTED

    @property
    def tags(self) -> dict[str, str]:
        """AWS tags, or a Kubernetes object's labels: where this platform puts its required tags."""
        if isinstance(self.props.get("tags"), dict):
            return dict(self.props["tags"])
        metadata = self.props.get("metadata")
        if isinstance(metadata, dict) and isinstance(metadata.get("labels"), dict):
            return dict(metadata["labels"])
        return {}

    def is_production(self, settings: Mapping[str, Any]) -> bool:
        return self.tags.get("environment", "") in settings.get("productionEnvironments", ())


ResourceCheck = Callable[[Resource, Mapping[str, Any]], Iterable[str]]
StackCheck = Callable[[Sequence[Resource], Mapping[str, Any]], Iterable[tuple[Resource | None, str]]]

PRODUCTION = {
    "productionEnvironments": {
        "type": "array",
        "items": {"type": "string"},
        "default": ["prod", "production"],
        "description": "Values of the `environment` tag that count as production.",
    }
}


@dataclass(frozen=True)
class Rule:
    id: str
    severity: Severity
    description: str
    remediation: str
    resource_types: tuple[str, ...] = ()
    check: ResourceCheck | None = None
    stack_check: StackCheck | None = None
    # JSON-schema properties: {name: {"type": ..., "default": ..., "description": ...}}
    thresholds: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def settings(self, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
        values = {name: spec.get("default") for name, spec in self.thresholds.items()}
        values.update({key: value for key, value in (overrides or {}).items() if key in self.thresholds})
        return values

    def applies_to(self, resource: Resource) -> bool:
        return resource.type in self.resource_types


@dataclass(frozen=True)
class Violation:
    rule: Rule
    resource: Resource | None
    message: str
    enforcement: str  # the rule's severity, or what the policy config made of it

    @property
    def subject(self) -> str:
        return f"{self.resource.type} {self.resource.name}" if self.resource else "the stack"


def truthy(value: Any) -> bool:
    """True only for a known true value (engine inputs may arrive as strings or numbers)."""
    return value is True or (isinstance(value, str) and value.lower() == "true")


def number(value: Any, default: float = 0) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return default
