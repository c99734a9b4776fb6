"""`decide(spec, observation, state, now) -> (Decision, new state)`: one tick of one policy.

The pipeline (docs/engine.md has it as a table, with every knob's arithmetic):

    1. per metric: the HPA's replica calculator (recommending; for a Resource metric its per-pod
       calculator, resources), raised by the forecast, quantile sizing and a burst when those are
       set (forecasting, sizing)
    2. failures: count consecutive failing ticks; past fallback.failureThreshold, hold or substitute
    3. where the count stands:  0 -> KEDA activation;  above max / below min -> straight to the bound
    4. 1..N: scale to zero after cooldown (minReplicas 0), else max over metrics ->
       no scale-down on a failed metric -> stabilization -> rate limits -> [min, max] (with schedules)
    5. paused / dryRun: everything computed and remembered, `actuate=False`, no scale event recorded

Cost: O(metrics + remembered entries) per call, with entries bounded by the longest window or period;
no clock, no I/O.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from scaleplane.scaling import decisions, facts, reasons, records, specs
from scaleplane.scaling.deciding import (
    activation,
    behaviors,
    forecasting,
    recommending,
    remembering,
    resources,
    scheduling,
    sizing,
)


@records.quick
@dataclass(frozen=True)
class Outcome:
    """What steps 3-4 settled on, before the operator switches."""

    desired: int
    raw: int | None
    reason: str
    rules: tuple[str, ...]
    driving_metric: str | None
    recommendations: tuple[decisions.MetricRecommendation, ...]
    record_raw: bool  # the HPA records a recommendation only when the metrics produced one


def decide(
    spec: specs.ScalingPolicySpec,
    observation: decisions.Observation,
    state: decisions.ScalingState,
    now: float,
) -> tuple[decisions.Decision, decisions.ScalingState]:
    current = max(0, observation.current_replicas)
    ready = max(0, observation.ready_replicas)
    known = facts.of(spec)
    tolerances = known.tolerances
    recs = tuple(
        [
            resources.recommend(metric, observation.sample(metric.name), current, tolerances, now)
            if metric.is_resource
            else recommending.recommend(metric, observation.sample(metric.name), current, ready, tolerances)
            for metric in spec.metrics
        ]
    )
    if known.any_resource:  # without pods to read, resolved would return an equal copy
        observation = resources.resolved(observation, recs)
    if known.forecasting:
        recs = forecasting.raise_recommendations(spec, recs, state, current, ready, tolerances, now)
    rises = None
    if spec.sizing is not None:
        recs, rises = sizing.size(spec, recs, state, current, ready, tolerances, now)
    burst_state: dict[str, object] | None = None
    burst_raised = False
    if spec.burst is not None:
        recs, burst_state, burst_raised = sizing.burst(spec, recs, state, current, ready, now)
    any_failed = None in [rec.replicas for rec in recs]
    failures = activation.failures_after(any_failed, state.consecutive_failures)
    active = activation.is_active(spec, observation)
    last_active_at = now if active else state.last_active_at
    floor, window = scheduling.floor(spec, now) if spec.schedules else (0, None)
    # recordInitialRecommendation: a new controller counts the current size as its first recommendation,
    # so it does not scale down within the down-window of starting.
    remembered = state.recommendations or ((now, current),)

    outcome = _settle(
        spec,
        current,
        recs,
        any_failed,
        failures,
        active,
        last_active_at,
        floor,
        window,
        remembered,
        state,
        now,
    )
    actuate = known.actuate
    rules, reason = outcome.rules, outcome.reason
    if burst_raised and outcome.raw is not None and outcome.desired >= current:
        rules = (reasons.RULE_BURST, *rules)
    if spec.paused:
        rules, reason = (*rules, reasons.RULE_PAUSED), reasons.PAUSED
    elif spec.dry_run:
        rules = (*rules, reasons.RULE_DRY_RUN)

    # the sentence is built when someone reads it (the operator does, a simulation never does)
    decision = decisions.Decision.explained_later(
        functools.partial(
            remembering.explain,
            spec,
            current,
            outcome.desired,
            outcome.raw,
            reason,
            rules,
            outcome.recommendations,
            outcome.driving_metric,
        ),
        at=now,
        current=current,
        desired=outcome.desired,
        raw=outcome.raw,
        reason=reason,
        driving_metric=outcome.driving_metric,
        rules=rules,
        recommendations=outcome.recommendations,
        actuate=actuate,
    )
    new_state = remembering.remember(
        spec,
        state,
        observation,
        now,
        recommendations=remembered,
        raw=outcome.raw if outcome.record_raw else None,
        scaled=(current, outcome.desired) if actuate and outcome.desired != current else None,
        consecutive_failures=failures,
        last_active_at=last_active_at,
        burst=burst_state,
        rises=rises,
    )
    return decision, new_state


def _settle(
    spec: specs.ScalingPolicySpec,
    current: int,
    recs: tuple[decisions.MetricRecommendation, ...],
    any_failed: bool,
    failures: int,
    active: bool,
    last_active_at: float | None,
    floor: int,
    window: str | None,
    remembered: behaviors.Recommendations,
    state: decisions.ScalingState,
    now: float,
) -> Outcome:
    combined = recommending.combine(recs)

    def fixed(desired: int, reason: str, *rules: str, record: bool = False) -> Outcome:
        return Outcome(desired, combined.replicas, reason, rules, combined.driving_metric, recs, record)

    lowest = max(spec.min_replicas, floor)
    floor_reason = reasons.SCHEDULE if window is not None and floor > spec.min_replicas else None
    if current == 0:
        if lowest > 0:
            return fixed(lowest, floor_reason or reasons.MIN_REPLICAS, _rule_of(floor_reason))
        if active:
            return fixed(
                activation.wake_count(spec, combined.replicas), reasons.ACTIVATED, reasons.RULE_ACTIVATION
            )
        return fixed(0, reasons.IDLE, reasons.RULE_ACTIVATION)
    if current > spec.max_replicas:
        return fixed(spec.max_replicas, reasons.MAX_REPLICAS, reasons.RULE_MAX_REPLICAS)
    lowest = max(lowest, 1)  # KEDA runs the HPA with minReplicas max(1, minReplicaCount)
    if current < lowest:
        return fixed(lowest, floor_reason or reasons.MIN_REPLICAS, _rule_of(floor_reason))

    base_reason: str | None = None
    if any_failed and activation.fallback_due(spec, failures):
        assert spec.fallback is not None  # fallback_due checked it
        if spec.fallback.action == "hold":
            return fixed(current, reasons.FALLBACK_HOLD, reasons.RULE_FALLBACK)
        assert spec.fallback.replicas is not None  # the spec requires it with action 'replicas'
        recs = activation.with_fallback(recs, spec.fallback.replicas)
        combined = recommending.combine(recs)
        base_reason = reasons.FALLBACK_REPLICAS

    if (
        spec.min_replicas == 0
        and floor == 0
        and not any_failed
        and not active
        and activation.cooled_down(spec.cooldown_seconds, last_active_at, now)
    ):
        return fixed(0, reasons.COOLED_DOWN, reasons.RULE_COOLDOWN, record=combined.replicas is not None)

    raw = combined.replicas
    if raw is None:
        return fixed(current, reasons.METRICS_UNAVAILABLE, reasons.RULE_METRIC_FAILED)
    if combined.failed and raw < current:
        return fixed(current, reasons.METRIC_FAILED, reasons.RULE_METRIC_FAILED)

    rules = [reasons.RULE_FALLBACK] if base_reason == reasons.FALLBACK_REPLICAS else []
    driving = next(rec for rec in recs if rec.metric == combined.driving_metric)
    if driving.note == "tolerance":
        rules.append(reasons.RULE_TOLERANCE)
    if driving.forecast_value is not None:
        rules.append(reasons.RULE_FORECAST)
        base_reason = base_reason or reasons.FORECAST
    if driving.sized_value is not None:
        by_sqrt = spec.sizing is not None and spec.sizing.method == "sqrt"
        rules.append(reasons.RULE_SQRT_STAFFING if by_sqrt else reasons.RULE_QUANTILE)
    reason = base_reason or _direction_reason(raw, current)

    stabilized = behaviors.stabilize(remembered, raw, current, spec.behavior, now)
    if stabilized != raw:
        rules.append(reasons.RULE_STABILIZATION)
        reason = reasons.STABILIZED
    limited = behaviors.limit_rate(
        stabilized, current, lowest, spec.max_replicas, state.scale_events, spec.behavior, now
    )
    if limited.rule is not None:
        rule = limited.rule
        if rule == reasons.RULE_MIN_REPLICAS and floor_reason is not None:
            rule = reasons.RULE_SCHEDULE
        rules.append(rule)
        reason = _REASON_OF_RULE[rule]
    return Outcome(limited.replicas, raw, reason, tuple(rules), combined.driving_metric, recs, True)


_REASON_OF_RULE = {
    reasons.RULE_RATE_LIMIT: reasons.RATE_LIMITED,
    reasons.RULE_SCALING_DISABLED: reasons.SCALING_DISABLED,
    reasons.RULE_MAX_REPLICAS: reasons.MAX_REPLICAS,
    reasons.RULE_MIN_REPLICAS: reasons.MIN_REPLICAS,
    reasons.RULE_SCHEDULE: reasons.SCHEDULE,
}


def _rule_of(floor_reason: str | None) -> str:
    return reasons.RULE_SCHEDULE if floor_reason is not None else reasons.RULE_MIN_REPLICAS


def _direction_reason(raw: int, current: int) -> str:
    if raw > current:
        return reasons.SCALE_UP
    if raw < current:
        return reasons.SCALE_DOWN
    return reasons.AT_TARGET
