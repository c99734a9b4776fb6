"""Headroom that follows the load: sizing and a burst (panic) mode. Both only ever add replicas.

square-root staffing (`spec.sizing`, method sqrt)
    n = the replicas (unrounded) a metric's reading asks for at its target; recommend for
        n + beta * sqrt(n)                                       16 -> 18 at beta 0.5, 400 -> 410
    the spare that independent arrivals need: their swings grow as sqrt(n), not as n. No history.

quantile sizing (`spec.sizing`, method stdev; method rise is `scaling.deciding.headroom`)
    over the metric's readings (loads, as the forecast keeps them) of the last `windowSeconds`:
        sized = latest + z(quantile) * stdev(readings)          z(0.9) = 1.28, z(0.95) = 1.64
    and the metric recommends for `sized` when that asks for more than the reading did. A flat load
    gets no headroom; a load swinging by +-10 % gets about 13 % at quantile 0.9. Needs 3 readings.

burst mode (`spec.burst`), after Knative's panic window
    a metric is bursting when its reading is at least `threshold` x what the ready replicas hold at
    the target (AverageValue: value / (target * ready); Value: value / target). While bursting, and for
    `holdSeconds` after the last bursting tick, every metric recommends at least the highest count a
    bursting reading asked for since the burst began, and at least the current count (no scale-down).
    The burst lives in `state.extra["burst"]` as {"until": time, "peak": replicas}.
"""

from __future__ import annotations

import bisect
import functools
import math
import statistics
from collections.abc import Mapping, Sequence
from typing import Any

from scaleplane.scaling import decisions, specs
from scaleplane.scaling.deciding import forecasting, headroom, histories, recommending

MIN_READINGS = 3
_Z = statistics.NormalDist()


def size(
    spec: specs.ScalingPolicySpec,
    recs: tuple[decisions.MetricRecommendation, ...],
    state: decisions.ScalingState,
    current: int,
    ready: int,
    tolerances: recommending.Tolerances,
    now: float,
) -> tuple[tuple[decisions.MetricRecommendation, ...], dict[str, headroom.Entry] | None]:
    """`spec.sizing` by its method: (recommendations, the rises' histograms to remember, or None)."""
    assert spec.sizing is not None  # the engine calls this only with sizing set
    if spec.sizing.method == "rise":
        return headroom.size_for_rises(spec, recs, state, current, ready, tolerances, now)
    if spec.sizing.method == "sqrt":
        return size_for_sqrt_staffing(spec, recs, current, ready, tolerances), None
    return size_for_quantile(spec, recs, state, current, ready, tolerances, now), None


def size_for_sqrt_staffing(
    spec: specs.ScalingPolicySpec,
    recs: tuple[decisions.MetricRecommendation, ...],
    current: int,
    ready: int,
    tolerances: recommending.Tolerances,
) -> tuple[decisions.MetricRecommendation, ...]:
    """Each metric recommends for n + beta * sqrt(n) replicas, n = load / target (unrounded).

    In value terms: sized = value * (1 + beta / sqrt(n)). A Value metric's load is its reading times the
    ready replicas (forecasting.multiplier), so n is the replicas either kind of target asks for.
    """
    settings = spec.sizing
    assert settings is not None and settings.method == "sqrt"  # size dispatches here
    by_name = {m.name: m for m in spec.metrics}
    sized: list[decisions.MetricRecommendation] = []
    for rec in recs:
        if rec.value is None or rec.replicas is None or rec.value <= 0 or settings.beta == 0:
            sized.append(rec)
            continue
        metric = by_name[rec.metric]
        needed = rec.value * forecasting.multiplier(metric, current, ready) / metric.level.value
        value = rec.value * (1.0 + settings.beta / math.sqrt(needed))
        sized.append(recommending.raised(rec, metric, value, current, ready, tolerances))
    return tuple(sized)


def size_for_quantile(
    spec: specs.ScalingPolicySpec,
    recs: tuple[decisions.MetricRecommendation, ...],
    state: decisions.ScalingState,
    current: int,
    ready: int,
    tolerances: recommending.Tolerances,
    now: float,
) -> tuple[decisions.MetricRecommendation, ...]:
    settings = spec.sizing
    assert settings is not None  # the engine calls this only with sizing set
    z = _z_of(settings.quantile)
    since = now - settings.window
    by_name = {m.name: m for m in spec.metrics}
    sized: list[decisions.MetricRecommendation] = []
    for rec in recs:
        if rec.value is None or rec.replicas is None:
            sized.append(rec)
            continue
        metric = by_name[rec.metric]
        scale = forecasting.multiplier(metric, current, ready)
        loads = _recent(state.history, rec.metric, since, now)
        loads.append(max(rec.value, 0.0) * scale)
        if len(loads) < MIN_READINGS:
            sized.append(rec)
            continue
        value = (loads[-1] + z * _stdev(loads)) / scale
        sized.append(recommending.raised(rec, metric, value, current, ready, tolerances))
    return tuple(sized)


@functools.lru_cache(maxsize=64)
def _z_of(quantile: float) -> float:
    """The standard normal quantile (NormalDist.inv_cdf is pure Python: once per setting, not per tick)."""
    return _Z.inv_cdf(quantile)


def _stdev(loads: list[float]) -> float:
    """statistics.pstdev without its exact fractions (about 20 times faster; this runs every tick).

    Plain sums, not math.fsum: near the float limit they give inf (which the caller drops), where fsum
    raises OverflowError.
    """
    mean = sum(loads) / len(loads)
    return math.sqrt(sum((x - mean) * (x - mean) for x in loads) / len(loads))


def _recent(
    history: Sequence[tuple[float, str, float]], metric: str, since: float, now: float
) -> list[float]:
    """The metric's loads with since < time < now; the history is in time order (remembering keeps it so)."""
    if not history:
        return []
    times, only, loads = histories.columns(history)  # unzipped once per history, not once per reader
    first = bisect.bisect_right(times, since)
    last = bisect.bisect_left(times, now)
    if only == metric:  # one metric, the usual case: a slice at C speed
        return list(loads[first:last])
    return [load for _, name, load in history[first:last] if name == metric]


def burst(
    spec: specs.ScalingPolicySpec,
    recs: tuple[decisions.MetricRecommendation, ...],
    state: decisions.ScalingState,
    current: int,
    ready: int,
    now: float,
) -> tuple[tuple[decisions.MetricRecommendation, ...], dict[str, Any] | None, bool]:
    """(recommendations, the burst to remember or None, whether the burst raised any of them)."""
    settings = spec.burst
    assert settings is not None  # the engine calls this only with a burst set
    by_name = {m.name: m for m in spec.metrics}
    previous = _remembered(state.extra.get("burst"), now)
    peak = previous[1] if previous else 0
    bursting = False
    for rec in recs:
        if rec.value is None or rec.replicas is None:
            continue
        metric = by_name[rec.metric]
        held = metric.level.value * (max(ready, 1) if metric.level.type == "AverageValue" else 1)
        if current > 0 and rec.value >= settings.threshold * held:
            bursting = True
            peak = max(peak, rec.replicas)
    if not bursting and previous is None:
        return recs, None, False
    until = now + settings.hold_seconds if bursting else previous[0] if previous else now
    floor = max(peak, current)
    raised = tuple(
        rec
        if rec.replicas is None or rec.replicas >= floor
        else decisions.MetricRecommendation(
            metric=rec.metric,
            value=rec.value,
            target=rec.target,
            target_type=rec.target_type,
            replicas=floor,
            forecast_value=rec.forecast_value,
            note=rec.note,
            sized_value=rec.sized_value,
            predicted=rec.predicted,
        )
        for rec in recs
    )
    return raised, {"until": until, "peak": peak}, raised != recs


def _remembered(entry: Any, now: float) -> tuple[float, int] | None:
    """(until, peak) of a burst still open at `now`; None when none is (or the state was edited badly)."""
    if not isinstance(entry, Mapping):
        return None
    until, peak = entry.get("until"), entry.get("peak")
    if not isinstance(until, int | float) or not isinstance(peak, int) or isinstance(peak, bool):
        return None
    return (float(until), peak) if now < until else None
