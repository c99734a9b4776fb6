"""Per-metric recommendations: the HPA's replica calculator for External metrics, one metric at a time.

What the HPA counts as "current" differs by target type (pkg/controller/podautoscaler/replica_calculator.go):

    type          ratio                                  outside the tolerance band        inside it
    Value         value / target                         ceil(ratio * READY pods)          spec replicas
    AverageValue  value / (target * status.replicas)     ceil(value / target)              status.replicas

`status.replicas` counts the pods that exist, ready or not; this engine sees the requested count
(`Observation.current_replicas`) in its place, which equals it once a scale has been carried out.
Two deliberate differences, both for states the HPA never meets or gets wrong:
  * Value with no ready pod: the HPA multiplies by 0 and recommends 0; here the multiplier is the
    requested count, so a target whose pods are all starting is not scaled down for it.
  * at 0 replicas the HPA is disabled (KEDA wakes the target); here `activation` decides, and a Value
    metric recommends ceil(ratio), an AverageValue metric ceil(value / target), as the HPA would.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from scaleplane.scaling import decisions, records, specs

# The HPA works in int32; a ratio of 1e300 must not become an OverflowError.
REPLICA_CEILING = 2**31 - 1


@records.quick
@dataclass(frozen=True)
class Tolerances:
    """The HPA's band: a ratio r with 1 - down <= r <= 1 + up changes nothing."""

    up: float
    down: float

    def contain(self, ratio: float) -> bool:
        return (1.0 - self.down) <= ratio <= (1.0 + self.up)


def tolerances_of(spec: specs.ScalingPolicySpec) -> Tolerances:
    return Tolerances(up=spec.behavior.scale_up.tolerance, down=spec.behavior.scale_down.tolerance)


def ceil_replicas(x: float) -> int:
    """ceil(x) as a replica count: never negative, never above the int32 ceiling, NaN as 0."""
    if math.isnan(x) or x <= 0:
        return 0
    if x >= REPLICA_CEILING:
        return REPLICA_CEILING
    return math.ceil(x)


def replicas_for(
    metric: specs.MetricSpec, value: float, current: int, ready: int, tolerances: Tolerances
) -> tuple[int, bool]:
    """(replicas, whether the tolerance band changed the count) for one metric's finite value."""
    level = metric.level
    target = level.value
    value = max(value, 0.0)  # a negative level (a derivative, a gauge gone wrong) means no demand
    if level.type == "Value":
        ratio = value / target
        if current == 0:
            return ceil_replicas(ratio), False
        untolerated = ceil_replicas(ratio * (ready if ready > 0 else current))
        if tolerances.contain(ratio):
            return current, untolerated != current
        return untolerated, False
    untolerated = ceil_replicas(value / target)
    if current > 0 and tolerances.contain(value / (target * current)):
        return current, untolerated != current
    return untolerated, False


def raised(
    rec: decisions.MetricRecommendation,
    metric: specs.MetricSpec,
    value: float,
    current: int,
    ready: int,
    tolerances: Tolerances,
) -> decisions.MetricRecommendation:
    """`rec` raised by headroom (spec.sizing) to what `value` asks for, when that is more replicas.

    A value that is no finite number (readings near the float limit) leaves `rec` as it is.
    """
    if rec.replicas is None or not math.isfinite(value):
        return rec
    replicas, _ = replicas_for(metric, value, current, ready, tolerances)
    return rec.sized(replicas, value) if replicas > rec.replicas else rec


def recommend(
    metric: specs.MetricSpec,
    sample: decisions.MetricSample | None,
    current: int,
    ready: int,
    tolerances: Tolerances,
) -> decisions.MetricRecommendation:
    """One metric's recommendation; `replicas` is None when its sample is missing or not finite."""
    if sample is None or not sample.ok:
        if sample is None:
            why = "no sample"
        elif sample.error is not None:
            why = sample.error
        else:
            why = f"value is not a finite number: {sample.value!r}"
        return decisions.MetricRecommendation(
            metric=metric.name,
            value=None,
            target=metric.level.value,
            target_type=metric.level.type,
            replicas=None,
            note=f"failed: {why}",
        )
    assert sample.value is not None  # sample.ok guarantees it; mypy cannot see through the property
    replicas, held = replicas_for(metric, sample.value, current, ready, tolerances)
    level = metric.level
    return decisions.MetricRecommendation(
        metric.name, sample.value, level.value, level.type, replicas, note="tolerance" if held else ""
    )


@records.quick
@dataclass(frozen=True)
class Combined:
    """The max over metrics, as the HPA's computeReplicasForMetrics takes it."""

    replicas: int | None  # None when no metric could recommend
    driving_metric: str | None
    failed: tuple[str, ...]


def combine(recommendations: Sequence[decisions.MetricRecommendation]) -> Combined:
    best: int | None = None
    driving: str | None = None
    failed: list[str] = []
    for rec in recommendations:
        if rec.replicas is None:
            failed.append(rec.metric)
        elif best is None or rec.replicas > best:
            best, driving = rec.replicas, rec.metric
    return Combined(replicas=best, driving_metric=driving, failed=tuple(failed))
