"""`spec`: the whole policy, the rules that cross its parts, and `parse_policy`, the one way in.

`parse_policy` holds a spec to what the Kubernetes API would accept and reports each root cause as
`path: what is wrong, was VALUE`. The CRD (`operator.manifests.crds`) is generated from
`ScalingPolicySpec`; its CEL rules repeat the cross-field checks the API server can make itself.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, ValidationError, model_validator

from scaleplane.inputs import problems as input_problems
from scaleplane.scaling.specs import behaviors, fields, headrooms, metrics


class TargetRef(fields.SpecModel):
    """What to scale. Any kind with a `/scale` subresource in a cluster; a named pool in local mode."""

    api_version: str = "apps/v1"
    kind: Annotated[str, Field(min_length=1)] = "Deployment"
    name: Annotated[str, Field(min_length=1, max_length=253)]


class ScalingPolicySpec(fields.SpecModel):
    target_ref: TargetRef
    min_replicas: Annotated[int, Field(ge=0)] = 1
    max_replicas: Annotated[int, Field(ge=1)]
    metrics: Annotated[tuple[metrics.MetricSpec, ...], Field(min_length=1)]
    behavior: behaviors.Behavior = Field(default_factory=behaviors.Behavior)
    cooldown_seconds: Annotated[int, Field(ge=0)] = 300
    scale_from_zero: Annotated[
        Literal["one", "demand"],
        Field(
            description="At 0 replicas, once a metric is above its activation threshold: 'one' wakes to "
            "max(1, minReplicas) as KEDA does; 'demand' wakes straight to what the metrics ask for "
            "(capped at maxReplicas)."
        ),
    ] = "one"
    fallback: behaviors.Fallback | None = None
    schedules: tuple[headrooms.ScheduleWindow, ...] = ()
    forecast: headrooms.Forecast | None = None
    sizing: headrooms.Sizing | None = None
    burst: headrooms.Burst | None = None
    dry_run: bool = False
    paused: bool = False

    @model_validator(mode="after")
    def _consistent(self) -> ScalingPolicySpec:
        if self.max_replicas < self.min_replicas:
            raise ValueError(
                f"maxReplicas must be >= minReplicas, was {self.max_replicas} < {self.min_replicas}"
            )
        names = [m.name for m in self.metrics]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"metric names must be unique, repeated: {', '.join(duplicates)}")
        if self.min_replicas == 0 and all(m.is_resource for m in self.metrics):
            raise ValueError(
                "minReplicas 0 needs a query metric to wake the target: at zero replicas there are no "
                "pods whose cpu or memory a Resource metric could read (set minReplicas >= 1)"
            )
        return self


class PolicyError(ValueError):
    """An invalid policy. `problems` holds one line per root cause: `path: what is wrong, was VALUE`;
    `locations` the matching field paths (as tuples), so a file reader can add the line."""

    def __init__(self, problems: list[str], locations: list[tuple[int | str, ...]] | None = None) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems
        self.locations = locations or [() for _ in problems]

    def __reduce__(self) -> tuple[type[PolicyError], tuple[list[str], list[tuple[int | str, ...]]]]:
        # BaseException pickles `args` (the joined sentence) and would pass it back as `problems`:
        # a policy error sent across a process pool came back as one character per problem.
        return (type(self), (self.problems, self.locations))


def parse_policy(data: Any, *, root: str = "spec") -> ScalingPolicySpec:
    """Validate a policy spec (the CR's `spec`, or the `spec` of a YAML file) into a typed object.

    Held to what the Kubernetes API accepts: JSON types without coercion (`maxReplicas: "40"` is
    refused), int32 counts, unknown keys refused; only root causes are reported, not their cascade.
    """
    if data is None:
        raise PolicyError([f"{root}: is required (targetRef, maxReplicas and metrics at least)"])
    if not isinstance(data, dict):
        raise PolicyError([f"{root}: must be a mapping, was {input_problems.describe_value(data)}"])
    too_big = input_problems.over_int32(data)
    if too_big is not None:
        loc, value = too_big
        path = input_problems.join(root, loc)
        raise PolicyError([f"{path}: must be at most {input_problems.INT32_MAX} (int32), was {value}"], [loc])
    try:
        spec: ScalingPolicySpec = input_problems.strict_validate(ScalingPolicySpec, data)
    except ValidationError as exc:
        causes = input_problems.root_causes(exc.errors())
        raise PolicyError(
            [describe_error(root, err) for err in causes], [tuple(err["loc"]) for err in causes]
        ) from None
    return spec


def describe_error(root: str, err: Any, model: type[BaseModel] = ScalingPolicySpec) -> str:
    return f"{input_problems.join(root, err['loc'])}: {input_problems.message(err, model)}"
