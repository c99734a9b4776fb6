"""What a tick leaves behind: the next ScalingState (bounded) and the Decision's sentence.

The state keeps exactly what the rules can still read, so it stays small in a CR status:
    recommendations  newer than the longest stabilization window (the newest always kept)
    scale_events     newer than the longest rate-limit period
    history          newer than forecast.historySeconds or sizing.windowSeconds (the longer), only when
                     one is set; loads, not readings (forecasting.multiplier): a Value metric is kept
                     as value x ready replicas
    extra            "seasonal": the holt-winters profiles (seasons); "burst": an open burst
                     (sizing); "forecastErrors": the forecast's checked error and pending forecasts
                     (forecasterrors, with forecast.errorQuantile); "rises": the rise histograms
                     (headroom, with sizing.method rise); nothing else of the engine's
An entry exactly one window old is dropped: the HPA counts only entries strictly newer than the cutoff.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence

from scaleplane.scaling import decisions, facts, reasons, specs
from scaleplane.scaling.deciding import behaviors, forecasterrors, forecasting, histories, seasons


def remember(
    spec: specs.ScalingPolicySpec,
    state: decisions.ScalingState,
    observation: decisions.Observation,
    now: float,
    *,
    recommendations: behaviors.Recommendations,
    raw: int | None,
    scaled: tuple[int, int] | None,
    consecutive_failures: int,
    last_active_at: float | None,
    burst: dict[str, object] | None = None,
    rises: Mapping[str, object] | None = None,
) -> decisions.ScalingState:
    known = facts.of(spec)
    window_cutoff = now - known.longest_window
    kept = [r for r in recommendations if r[0] > window_cutoff]
    if raw is not None:
        kept.append((now, raw))
    elif not kept and recommendations:
        kept.append(recommendations[-1])  # never forget the last one: an empty list re-initialises

    period_cutoff = now - known.longest_period
    events = [e for e in state.scale_events if e[0] > period_cutoff]
    if scaled is not None:
        events.append((now, scaled[0], scaled[1]))

    history: tuple[tuple[float, str, float], ...] = ()
    extra = dict(state.extra)
    keep = known.history_seconds
    if keep:
        history_cutoff = now - keep
        # the history is in time order (each tick appends its own time): two bisections, not a scan
        columns = histories.cached_columns(state.history)  # when this tick's forecast read them
        if columns is not None:
            first = bisect.bisect_right(columns[0], history_cutoff)
            last = bisect.bisect_left(columns[0], now)
        else:
            first = bisect.bisect_right(state.history, history_cutoff, key=_time)
            last = bisect.bisect_left(state.history, now, key=_time)
        entries = list(state.history[first:last])
        added = []
        for metric in spec.metrics:
            sample = observation.sample(metric.name)
            if sample is not None and sample.ok and sample.value is not None:
                scale = forecasting.multiplier(
                    metric, observation.current_replicas, observation.ready_replicas
                )
                added.append((now, metric.name, max(sample.value, 0.0) * scale))
        entries.extend(added)
        history = tuple(entries)
        if columns is not None:
            histories.extend_columns(history, columns, first, last, added)
        extra = seasons.learn_seasons(spec, state, history, now)
    if known.forecasting and spec.forecast is not None and spec.forecast.error_quantile is not None:
        extra["forecastErrors"] = forecasterrors.learn_errors(spec, state, history, now)
    else:
        extra.pop("forecastErrors", None)
    if burst is not None:
        extra["burst"] = burst
    else:
        extra.pop("burst", None)
    if rises is not None:
        extra["rises"] = rises
    else:
        extra.pop("rises", None)

    return decisions.ScalingState(
        recommendations=tuple(kept),
        scale_events=tuple(events),
        history=history,
        consecutive_failures=consecutive_failures,
        last_active_at=last_active_at,
        extra=extra,
    )


def _time(entry: tuple[float, str, float]) -> float:
    return entry[0]


def history_seconds(spec: specs.ScalingPolicySpec) -> int:
    """How much metric history the policy's rules read: the forecast's and quantile sizing's windows."""
    return facts.of(spec).history_seconds


_SENTENCES = {
    reasons.SCALE_UP: "a metric is above its target",
    reasons.SCALE_DOWN: "every metric is below its target",
    reasons.AT_TARGET: "the metrics ask for the current count",
    reasons.STABILIZED: "the stabilization window holds the count",
    reasons.RATE_LIMITED: "a rate-limit policy caps the change",
    reasons.SCALING_DISABLED: "selectPolicy Disabled forbids scaling this way",
    reasons.MAX_REPLICAS: "capped at maxReplicas",
    reasons.MIN_REPLICAS: "raised to minReplicas",
    reasons.SCHEDULE: "raised to the floor of an open schedule window",
    reasons.FORECAST: "the forecast load asks for it",
    reasons.ACTIVATED: "a metric went above its activation threshold at zero replicas",
    reasons.IDLE: "no metric is above its activation threshold: staying at zero",
    reasons.COOLED_DOWN: "no metric was above its activation threshold for cooldownSeconds",
    reasons.METRICS_UNAVAILABLE: "no metric could be read: holding",
    reasons.METRIC_FAILED: "a metric failed, so scaling down is not safe: holding",
    reasons.FALLBACK_HOLD: "metrics kept failing past fallback.failureThreshold: holding",
    reasons.FALLBACK_REPLICAS: "metrics kept failing past fallback.failureThreshold: using fallback.replicas",
    reasons.PAUSED: "paused: computed and recorded, not carried out",
}


def explain(
    spec: specs.ScalingPolicySpec,
    current: int,
    desired: int,
    raw: int | None,
    reason: str,
    rules: tuple[str, ...],
    recommendations: Sequence[decisions.MetricRecommendation],
    driving_metric: str | None,
) -> str:
    """One sentence: the verdict, what the driving metric saw, and the rules that changed the number."""
    if desired == current:
        verdict = f"keep {current} replicas"
    else:
        verdict = f"scale from {current} to {desired} replicas"
    parts = [f"{verdict}: {_SENTENCES.get(reason, reason)}"]
    driving = next((r for r in recommendations if r.metric == driving_metric), None)
    if driving is not None and driving.value is not None:
        seen = f"{driving.metric} is {driving.value:g}"
        if driving.forecast_value is not None:
            seen += f" (forecast {driving.forecast_value:g})"
        per = " per replica" if driving.target_type == "AverageValue" else ""
        if driving.target_type == "Utilization":  # a Resource metric: percent of the pods' requests
            seen, per = f"{seen} % of the pods' requests", " %"
        parts.append(f"{seen} against a target of {driving.target:g}{per}, asking for {raw}")
    failed = [r.metric for r in recommendations if r.value is None]
    if failed:
        parts.append(f"failed: {', '.join(failed)}")
    if rules:
        parts.append(f"rules: {', '.join(rules)}")
    if spec.dry_run and not spec.paused:
        parts.append("dry run: not carried out")
    return "; ".join(parts)
