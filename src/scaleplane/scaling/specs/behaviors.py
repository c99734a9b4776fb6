"""`spec.behavior` and `spec.fallback`: how fast the replicas may move, and what to do when metrics fail.

The defaults are the HPA v2's, so a policy that sets nothing moves as an HPA would:

    scaleUp:   stabilizationWindowSeconds 0,   policies [Percent 100 / 15 s, Pods 4 / 15 s], selectPolicy Max
    scaleDown: stabilizationWindowSeconds 300, policies [Percent 100 / 15 s],                selectPolicy Max
    tolerance 0.1 in both directions (the HPA's --horizontal-pod-autoscaler-tolerance)

`scaling.deciding.behaviors` applies them, with the HPA's arithmetic.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from scaleplane.scaling.specs import fields

MAX_PERIOD_SECONDS = 1800  # the HPA's bound on a scaling policy's periodSeconds
MAX_STABILIZATION_SECONDS = 3600  # the HPA's bound on stabilizationWindowSeconds


class RateLimitPolicy(fields.SpecModel):
    """At most `value` Pods (or `value` percent of the replicas at the period's start) per `periodSeconds`."""

    type: Literal["Pods", "Percent"]
    value: Annotated[int, Field(gt=0)]
    period_seconds: Annotated[int, fields.Range(1, MAX_PERIOD_SECONDS)]


class ScalingRules(fields.SpecModel):
    """One direction's behaviour, as in the HPA's `behavior.scaleUp` / `behavior.scaleDown`."""

    stabilization_window_seconds: Annotated[int, fields.Range(0, MAX_STABILIZATION_SECONDS)]
    policies: tuple[RateLimitPolicy, ...]
    select_policy: Literal["Max", "Min", "Disabled"] = "Max"
    tolerance: Annotated[float, Field(ge=0, lt=1, allow_inf_nan=False)] = 0.1


SCALE_UP_POLICIES = (
    RateLimitPolicy(type="Percent", value=100, period_seconds=15),
    RateLimitPolicy(type="Pods", value=4, period_seconds=15),
)
SCALE_DOWN_POLICIES = (RateLimitPolicy(type="Percent", value=100, period_seconds=15),)


class ScaleUpRules(ScalingRules):
    """`behavior.scaleUp`: a field left out takes the HPA's scale-up default, as the HPA's defaulting does."""

    stabilization_window_seconds: Annotated[int, fields.Range(0, MAX_STABILIZATION_SECONDS)] = 0
    policies: tuple[RateLimitPolicy, ...] = SCALE_UP_POLICIES


class ScaleDownRules(ScalingRules):
    """`behavior.scaleDown`: a field left out takes the HPA's scale-down default."""

    stabilization_window_seconds: Annotated[int, fields.Range(0, MAX_STABILIZATION_SECONDS)] = 300
    policies: tuple[RateLimitPolicy, ...] = SCALE_DOWN_POLICIES


def default_scale_up() -> ScalingRules:
    return ScaleUpRules()


def default_scale_down() -> ScalingRules:
    return ScaleDownRules()


class Behavior(fields.SpecModel):
    """`behavior`: `scaleDown: {stabilizationWindowSeconds: 60}` keeps the other scale-down defaults."""

    scale_up: ScaleUpRules = Field(default_factory=ScaleUpRules)
    scale_down: ScaleDownRules = Field(default_factory=ScaleDownRules)

    @model_validator(mode="before")
    @classmethod
    def _accept_plain_rules(cls, data: Any) -> Any:
        # A ScalingRules built in code (complete by construction) is taken as its fields.
        if isinstance(data, dict):
            return {k: v.model_dump() if isinstance(v, ScalingRules) else v for k, v in data.items()}
        return data


class Fallback(fields.SpecModel):
    """After `failureThreshold` consecutive ticks where any metric failed: hold, or go to `replicas`."""

    failure_threshold: Annotated[int, Field(ge=1)] = 3
    action: Literal["hold", "replicas"] = "hold"
    replicas: Annotated[int, Field(ge=0)] | None = None

    @model_validator(mode="after")
    def _replicas_with_action(self) -> Fallback:
        if self.action == "replicas" and self.replicas is None:
            raise ValueError("action 'replicas' needs fallback.replicas")
        return self
