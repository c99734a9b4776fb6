"""The `ScalingPolicy` spec: the single source of truth for the CRD schema, the JSON schema and YAML files.

Field names are camelCase on the wire (YAML, the CRD) and snake_case in Python. Defaults equal the
Kubernetes HPA v2 defaults wherever an HPA knob exists, so a policy that sets nothing behaves like an HPA:

    scaleUp:   stabilizationWindowSeconds 0,   policies [Percent 100 / 15 s, Pods 4 / 15 s], selectPolicy Max
    scaleDown: stabilizationWindowSeconds 300, policies [Percent 100 / 15 s],                selectPolicy Max
    tolerance 0.1 (the HPA's --horizontal-pod-autoscaler-tolerance)

Validation happens here, once; `parse_policy` turns pydantic's errors into messages that name the field
path and the bad value (`spec.behavior.scaleDown.policies[0].periodSeconds: must be 1..1800, was 0`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

import cronsim
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    ValidationError,
    WithJsonSchema,
    model_validator,
)
from pydantic.alias_generators import to_camel
from pydantic_core import core_schema

from scaleplane.inputs import problems as input_problems
from scaleplane.inputs import quantities as input_quantities

MAX_PERIOD_SECONDS = 1800  # the HPA's bound on a scaling policy's periodSeconds
MAX_STABILIZATION_SECONDS = 3600  # the HPA's bound on stabilizationWindowSeconds


@dataclass(frozen=True)
class Range:
    """`Annotated[int, Range(1, 1800)]`: an int in [lower, upper], whose error names both ends.

    pydantic's own ge/le report only the side that failed; the HPA-style message `must be 1..1800`
    tells the user the whole valid range at once.
    """

    lower: int
    upper: int

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> Any:
        return core_schema.no_info_after_validator_function(self._check, handler(source))

    def __get_pydantic_json_schema__(self, schema: Any, handler: GetJsonSchemaHandler) -> Any:
        json_schema = handler(schema)
        json_schema.update(minimum=self.lower, maximum=self.upper)
        return json_schema

    def _check(self, value: int) -> int:
        if not self.lower <= value <= self.upper:
            raise ValueError(f"must be {self.lower}..{self.upper}")
        return value


class SpecModel(BaseModel):
    """Base of every spec model: camelCase aliases, unknown keys rejected, immutable."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True)


class TargetRef(SpecModel):
    """What to scale. Any kind with a `/scale` subresource in a cluster; a named pool in local mode."""

    api_version: str = "apps/v1"
    kind: Annotated[str, Field(min_length=1)] = "Deployment"
    name: Annotated[str, Field(min_length=1, max_length=253)]


class MetricTarget(SpecModel):
    """`Value`: the query's result as a whole is held at `value`; `AverageValue`: result / ready replicas."""

    type: Literal["Value", "AverageValue"] = "AverageValue"
    value: Annotated[float, Field(gt=0, allow_inf_nan=False)]


def check_quantity(value: int | str) -> int | str:
    """A Kubernetes quantity (`500m`, `512Mi`, `2`), as the HPA's averageValue takes it; > 0."""
    if isinstance(value, str):
        input_quantities.check(value)
    if input_quantities.value_of(value) <= 0:
        raise ValueError("must be a quantity > 0 (e.g. 500m of CPU, 512Mi of memory)")
    return value


Quantity = Annotated[
    int | str,
    AfterValidator(check_quantity),
    WithJsonSchema(
        {
            "x-kubernetes-int-or-string": True,
            "description": "a Kubernetes quantity: 500m, 2, 512Mi",
        }
    ),
]


class ResourceTarget(SpecModel):
    """The HPA's target of a Resource metric: a percentage of the pods' requests, or a usage per pod."""

    type: Literal["Utilization", "AverageValue"]
    average_utilization: Annotated[int, Field(ge=1)] | None = None
    average_value: Quantity | None = None

    @model_validator(mode="after")
    def _one_target(self) -> ResourceTarget:
        wanted, other = (
            ("averageUtilization", "averageValue")
            if self.type == "Utilization"
            else ("averageValue", "averageUtilization")
        )
        given = {"averageUtilization": self.average_utilization, "averageValue": self.average_value}
        if given[wanted] is None:
            raise ValueError(f"type {self.type} needs {wanted}")
        if given[other] is not None:
            raise ValueError(f"type {self.type} takes {wanted}, not {other} (was {given[other]!r})")
        return self

    @property
    def level(self) -> float:
        """Percent of the requests (Utilization), or cores / bytes per pod (AverageValue)."""
        if self.average_utilization is not None:
            return float(self.average_utilization)
        assert self.average_value is not None  # _one_target guarantees one of the two
        return input_quantities.value_of(self.average_value)


CONTAINER_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


def check_container(name: str) -> str:
    if not CONTAINER_NAME.match(name):
        raise ValueError("must be a container name (a DNS label: lowercase letters, digits and '-')")
    return name


class ResourceSource(SpecModel):
    """`resource`: which resource of the target's pods (all containers, or one) and the level to hold."""

    name: Literal["cpu", "memory"]
    container: (
        Annotated[
            str,
            AfterValidator(check_container),
            Field(json_schema_extra={"pattern": CONTAINER_NAME.pattern, "maxLength": 63}),
        ]
        | None
    ) = None
    target: ResourceTarget


class MetricSpec(SpecModel):
    """One metric: a PromQL `query` and the level to hold it at, or (`type: Resource`) the CPU or
    memory of the target's pods against their requests, computed as the HPA's replica calculator does.

    `activationThreshold` is KEDA's: at zero replicas the target is woken only when the query's value
    is strictly above it, and it is let go to zero only while the value stays at or below it. A
    Resource metric has none: at zero replicas there are no pods to read (as in KEDA, cpu and memory
    never wake a target), so a policy of Resource metrics only needs minReplicas >= 1.
    """

    name: Annotated[str, Field(min_length=1, max_length=63, pattern=r"^[a-zA-Z_][a-zA-Z0-9_\-]*$")]
    type: Annotated[
        Literal["Resource"] | None,
        Field(description="Resource: the pods' cpu or memory (see resource); left out: a PromQL query"),
    ] = None
    query: Annotated[str, Field(min_length=1)] | None = None
    target: MetricTarget | None = None
    resource: ResourceSource | None = None
    activation_threshold: Annotated[float, Field(ge=0, allow_inf_nan=False)] = 0.0

    @model_validator(mode="after")
    def _query_or_resource(self) -> MetricSpec:
        if self.type == "Resource":
            extra = [key for key, v in (("query", self.query), ("target", self.target)) if v is not None]
            if self.resource is None:
                raise ValueError("type Resource needs resource (name cpu or memory, and a target)")
            if extra:
                raise ValueError(
                    f"a Resource metric reads the pods' usage: {' and '.join(extra)} is for query "
                    "metrics (the level goes in resource.target)"
                )
            if self.activation_threshold:
                raise ValueError("a Resource metric has no activationThreshold (no pods to read at zero)")
            return self
        if self.resource is not None:
            raise ValueError("resource needs type: Resource")
        missing = [key for key, v in (("query", self.query), ("target", self.target)) if v is None]
        if missing:
            raise ValueError(f"needs {' and '.join(missing)} (or type: Resource with resource)")
        return self

    @property
    def is_resource(self) -> bool:
        return self.resource is not None

    @property
    def level(self) -> MetricTarget:
        """The level the metric is held at, as a target the forecast, sizing and burst rules read.

        A Resource metric is a per-pod level (percent of the requests, or usage per pod) and the HPA's
        formula for it, ceil(level / target x ready pods), is the `Value` formula: it is held as one.
        """
        if self.resource is not None:
            return MetricTarget(type="Value", value=self.resource.target.level)
        assert self.target is not None  # _query_or_resource guarantees it
        return self.target


class RateLimitPolicy(SpecModel):
    """At most `value` Pods (or `value` percent of the replicas at the period's start) per `periodSeconds`."""

    type: Literal["Pods", "Percent"]
    value: Annotated[int, Field(gt=0)]
    period_seconds: Annotated[int, Range(1, MAX_PERIOD_SECONDS)]


class ScalingRules(SpecModel):
    """One direction's behaviour, as in the HPA's `behavior.scaleUp` / `behavior.scaleDown`."""

    stabilization_window_seconds: Annotated[int, Range(0, MAX_STABILIZATION_SECONDS)]
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

    stabilization_window_seconds: Annotated[int, Range(0, MAX_STABILIZATION_SECONDS)] = 0
    policies: tuple[RateLimitPolicy, ...] = SCALE_UP_POLICIES


class ScaleDownRules(ScalingRules):
    """`behavior.scaleDown`: a field left out takes the HPA's scale-down default."""

    stabilization_window_seconds: Annotated[int, Range(0, MAX_STABILIZATION_SECONDS)] = 300
    policies: tuple[RateLimitPolicy, ...] = SCALE_DOWN_POLICIES


def default_scale_up() -> ScalingRules:
    return ScaleUpRules()


def default_scale_down() -> ScalingRules:
    return ScaleDownRules()


class Behavior(SpecModel):
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


class Fallback(SpecModel):
    """After `failureThreshold` consecutive ticks where any metric failed: hold, or go to `replicas`."""

    failure_threshold: Annotated[int, Field(ge=1)] = 3
    action: Literal["hold", "replicas"] = "hold"
    replicas: Annotated[int, Field(ge=0)] | None = None

    @model_validator(mode="after")
    def _replicas_with_action(self) -> Fallback:
        if self.action == "replicas" and self.replicas is None:
            raise ValueError("action 'replicas' needs fallback.replicas")
        return self


def check_cron(expression: str) -> str:
    """A 5-field cron expression that cronsim (the scheduler's library) accepts, or a ValueError."""
    try:
        cronsim.CronSim(expression, datetime(2000, 1, 1, tzinfo=UTC))
    except cronsim.CronSimError as exc:
        raise ValueError(f"not a valid cron expression ({exc})") from None
    return expression


def check_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (KeyError, ValueError):
        raise ValueError("not a known IANA time zone (e.g. UTC, Europe/Paris)") from None
    return name


class ScheduleWindow(SpecModel):
    """A floor for a known peak: from each `cron` firing, for `durationSeconds`, at least `minReplicas`."""

    name: Annotated[str, Field(min_length=1)]
    cron: Annotated[str, Field(min_length=9), AfterValidator(check_cron)]
    duration_seconds: Annotated[int, Range(1, 7 * 86400)]
    min_replicas: Annotated[int, Field(ge=0)]
    timezone: Annotated[str, AfterValidator(check_timezone)] = "UTC"


class Forecast(SpecModel):
    """Pre-scale for the target's start-up time from the recent history of the metrics.

    The engine forecasts each metric `startupSeconds` (plus one tick) ahead and recommends for the
    higher of the observed and the forecast value, so new capacity is ready when the load arrives.
    """

    enabled: bool = True
    model: Literal["holt", "holt-winters", "last"] = "holt"
    startup_seconds: Annotated[int, Range(0, 3600)] = 60
    history_seconds: Annotated[int, Range(60, 7 * 86400)] = 1800
    season_seconds: Annotated[int, Field(ge=60)] | None = None
    error_quantile: (
        Annotated[
            float,
            Field(
                gt=0,
                lt=1,
                allow_inf_nan=False,
                description="Recommend for this quantile of the forecast's own error: forecast + z x the RMS "
                "of its past errors at the same horizon (0.5: the forecast itself; 0.9: 1.28 RMS above it; "
                "0.3: only the part of a rise the forecast is sure of). Unset: the point forecast.",
            ),
        ]
        | None
    ) = None

    @model_validator(mode="after")
    def _season_for_holt_winters(self) -> Forecast:
        if self.model == "holt-winters" and self.season_seconds is None:
            raise ValueError("model 'holt-winters' needs seasonSeconds (e.g. 86400 for a daily cycle)")
        return self


class Sizing(SpecModel):
    """Size for a quantile of recent demand, not for its latest reading: headroom that follows the load.

    `method: stdev` (the default): over the last `windowSeconds` (default 300) of a metric's readings
    (as loads, like the forecast's history), recommend for the latest reading plus z(quantile) standard
    deviations of those readings (0.9 -> 1.28, 0.95 -> 1.64): a noisy load gets headroom in proportion
    to its noise, a smooth one none.

    `method: rise`: recommend for the latest reading times (1 + the `quantile` of the load's relative
    rises over `horizonSeconds`, `max(load over (t, t + horizon]) / load(t) - 1`, seen over the last
    `windowSeconds`, default 7200). Set the horizon to the lead time (the query's rate window plus the
    start-up time plus a sync period): the headroom is what the load has actually risen by, recently,
    in the time new capacity takes to count; a load that stays flat gets none.
    """

    method: Literal["stdev", "rise"] = "stdev"
    quantile: Annotated[float, Field(ge=0.5, le=0.999, allow_inf_nan=False)] = 0.9
    window_seconds: Annotated[int, Range(30, 86400)] | None = None
    horizon_seconds: Annotated[int, Range(15, 3600)] = 120

    @model_validator(mode="after")
    def _window_for_method(self) -> Sizing:
        if self.method == "stdev" and self.window_seconds is not None and self.window_seconds > 3600:
            raise ValueError(
                f"windowSeconds must be 30..3600 with method stdev (it keeps every reading), "
                f"was {self.window_seconds} (method rise keeps a histogram: up to 86400)"
            )
        if self.method == "stdev" and "horizon_seconds" in self.model_fields_set:
            raise ValueError(f"horizonSeconds is for method rise, was {self.horizon_seconds} with stdev")
        return self

    @property
    def window(self) -> int:
        """windowSeconds, or its default for the method (stdev 300 s, rise 7200 s)."""
        if self.window_seconds is not None:
            return self.window_seconds
        return 300 if self.method == "stdev" else 7200

    @property
    def history_seconds(self) -> int:
        """The readings the method reads back: the whole window (stdev), or a horizon and a margin of a
        minute for the sync period (rise: older rises live in its histogram, not as readings)."""
        return self.window if self.method == "stdev" else self.horizon_seconds + 60


class Burst(SpecModel):
    """A panic mode (Knative's): when a metric jumps, size for it at once and hold the peak a while.

    When a metric's reading is at least `threshold` times what the ready replicas hold at the target
    (threshold 2: twice the target per ready replica), the engine is in burst for `holdSeconds`: it
    recommends at least the replicas of the highest reading seen since the burst began, and never scales
    down meanwhile. Scale-up rate limits still apply; set them generous for bursts to help.
    """

    threshold: Annotated[float, Field(gt=1, le=100, allow_inf_nan=False)] = 2.0
    hold_seconds: Annotated[int, Range(15, 3600)] = 60


class ScalingPolicySpec(SpecModel):
    target_ref: TargetRef
    min_replicas: Annotated[int, Field(ge=0)] = 1
    max_replicas: Annotated[int, Field(ge=1)]
    metrics: Annotated[tuple[MetricSpec, ...], Field(min_length=1)]
    behavior: Behavior = Field(default_factory=Behavior)
    cooldown_seconds: Annotated[int, Field(ge=0)] = 300
    scale_from_zero: Annotated[
        Literal["one", "demand"],
        Field(
            description="At 0 replicas, once a metric is above its activation threshold: 'one' wakes to "
            "max(1, minReplicas) as KEDA does; 'demand' wakes straight to what the metrics ask for "
            "(capped at maxReplicas)."
        ),
    ] = "one"
    fallback: Fallback | None = None
    schedules: tuple[ScheduleWindow, ...] = ()
    forecast: Forecast | None = None
    sizing: Sizing | None = None
    burst: Burst | None = None
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
