"""The `ScalingPolicy` spec: the single source of truth for the CRD schema, the JSON schema and YAML files.

Field names are camelCase on the wire (YAML, the CRD) and snake_case in Python. Defaults equal the
Kubernetes HPA v2 defaults wherever an HPA knob exists, so a policy that sets nothing behaves like an HPA:

    scaleUp:   stabilizationWindowSeconds 0,   policies [Percent 100 / 15 s, Pods 4 / 15 s], selectPolicy Max
    scaleDown: stabilizationWindowSeconds 300, policies [Percent 100 / 15 s],                selectPolicy Max
    tolerance 0.1 (the HPA's --horizontal-pod-autoscaler-tolerance)

Validation happens here, once; `parse_policy` turns pydantic's errors into messages that name the field
path and the bad value (`spec.behavior.scaleDown.policies[0].periodSeconds: must be 1..1800, was 0`).

Rule: pure data and validation, like all of `scaling`. The models live in one module per part of the
policy: `fields` (the base model and the checked field types), `metrics` (`spec.metrics[]`),
`behaviors` (`behavior`, `fallback`), `headrooms` (`schedules`, `forecast`, `sizing`, `burst`) and
`policies` (`targetRef`, the whole spec, `parse_policy`). The parts import only `fields`, and only
`policies` imports the parts (checked by import-linter). Every name is also here, so the rest of the
project reads one vocabulary, `specs.X`; the modules inside this package import each other instead.
"""

from __future__ import annotations

from scaleplane.scaling.specs.behaviors import (
    MAX_PERIOD_SECONDS,
    MAX_STABILIZATION_SECONDS,
    SCALE_DOWN_POLICIES,
    SCALE_UP_POLICIES,
    Behavior,
    Fallback,
    RateLimitPolicy,
    ScaleDownRules,
    ScaleUpRules,
    ScalingRules,
    default_scale_down,
    default_scale_up,
)
from scaleplane.scaling.specs.fields import (
    CONTAINER_NAME,
    Quantity,
    Range,
    SpecModel,
    check_container,
    check_cron,
    check_quantity,
    check_timezone,
)
from scaleplane.scaling.specs.headrooms import Burst, Forecast, ScheduleWindow, Sizing
from scaleplane.scaling.specs.metrics import MetricSpec, MetricTarget, ResourceSource, ResourceTarget
from scaleplane.scaling.specs.policies import (
    PolicyError,
    ScalingPolicySpec,
    TargetRef,
    describe_error,
    parse_policy,
)

__all__ = [
    "CONTAINER_NAME",
    "MAX_PERIOD_SECONDS",
    "MAX_STABILIZATION_SECONDS",
    "SCALE_DOWN_POLICIES",
    "SCALE_UP_POLICIES",
    "Behavior",
    "Burst",
    "Fallback",
    "Forecast",
    "MetricSpec",
    "MetricTarget",
    "PolicyError",
    "Quantity",
    "Range",
    "RateLimitPolicy",
    "ResourceSource",
    "ResourceTarget",
    "ScaleDownRules",
    "ScaleUpRules",
    "ScalingPolicySpec",
    "ScalingRules",
    "ScheduleWindow",
    "Sizing",
    "SpecModel",
    "TargetRef",
    "check_container",
    "check_cron",
    "check_quantity",
    "check_timezone",
    "default_scale_down",
    "default_scale_up",
    "describe_error",
    "parse_policy",
]
