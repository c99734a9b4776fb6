"""Forecast mode: pre-scale for the target's start-up time from the recent history of each metric.

Every tick, for each metric that read fine, the engine forecasts its value `startupSeconds` plus one
tick ahead (a replica asked for now serves from then on) and recommends for max(observed, forecast):
the forecast only ever adds capacity early, it never removes capacity the observed load needs.

This module raises the recommendations; the parts it uses each have their own:
  forecasts       the models (last, holt, holt-winters) as pure functions of a metric's (times, values)
  histories       one metric's columns out of `state.history`, and the one-entry cache of them
  seasons         the holt-winters profiles in `state.extra["seasonal"]`, learnt one tick at a time
  forecasterrors  the checked error of past forecasts (`forecast.errorQuantile`)
`remembering` calls `seasons.learn_seasons` and `forecasterrors.learn_errors` as a tick ends.
"""

from __future__ import annotations

import math

from scaleplane.scaling import decisions, facts, specs
from scaleplane.scaling.deciding import forecasterrors, forecasts, histories, recommending, seasons

ROUNDING = 1e-9  # a forecast this close above the reading is the reading (the dot product's round-off)

# Kept here under their old names: callers (bench/, tests/) read them as forecasting.X.
ALPHA = forecasts.ALPHA
BETA = forecasts.BETA
MAX_BUCKETS = forecasts.MAX_BUCKETS
MIN_POINTS = forecasts.MIN_POINTS
holt = forecasts.holt
holt_weights = forecasts.holt_weights
holt_level = forecasts.holt_level
bucket_of = forecasts.bucket_of
deseason = forecasts.deseason
forecast = forecasts.forecast
series = histories.series
cached_columns = histories.cached_columns
extend_columns = histories.extend_columns
GAMMA = seasons.GAMMA
profile_of = seasons.profile_of
learn_seasons = seasons.learn_seasons
ERROR_WEIGHT = forecasterrors.ERROR_WEIGHT
MIN_ERRORS = forecasterrors.MIN_ERRORS
with_error = forecasterrors.with_error
learn_errors = forecasterrors.learn_errors


def multiplier(metric: specs.MetricSpec, current: int, ready: int) -> float:
    """What a reading is multiplied by to give the load it stands for (1 for AverageValue totals).

    A Value metric is a per-replica level (the HPA's own assumption: it falls as replicas rise), so its
    load is value x ready replicas, the multiplier the replica calculator uses. Remembering loads, not
    readings, keeps the history comparable when the count changes: a utilisation that halves because
    the replicas doubled is not a falling trend.
    """
    if metric.level.type == "AverageValue":
        return 1.0
    return float(ready if ready > 0 else max(current, 1))


def raise_recommendations(
    spec: specs.ScalingPolicySpec,
    recs: tuple[decisions.MetricRecommendation, ...],
    state: decisions.ScalingState,
    current: int,
    ready: int,
    tolerances: recommending.Tolerances,
    now: float,
) -> tuple[decisions.MetricRecommendation, ...]:
    """Each metric's recommendation, raised to what its forecast asks for when that is more."""
    settings = spec.forecast
    assert settings is not None  # the engine calls this only with a forecast set
    by_name = facts.of(spec).metrics
    raised: list[decisions.MetricRecommendation] = []
    for rec in recs:
        if rec.value is None or rec.replicas is None:
            raised.append(rec)
            continue
        metric = by_name[rec.metric]
        scale = multiplier(metric, current, ready)
        times, values = histories.series(state, rec.metric, now, max(rec.value, 0.0) * scale)
        if spec.sizing is not None and spec.sizing.history_seconds > settings.history_seconds:
            keep = [i for i, at in enumerate(times) if at > now - settings.history_seconds]
            times, values = [times[i] for i in keep], [values[i] for i in keep]
        horizon = settings.startup_seconds + (times[-1] - times[0]) / max(1, len(times) - 1)
        season = settings.season_seconds
        profile = seasons.profile_of(state, rec.metric, season) if season else None
        load = forecasts.forecast(settings.model, times, values, horizon, season, profile)
        if load is not None and settings.error_quantile is not None:
            load = forecasterrors.with_error(load, state, rec.metric, settings.error_quantile)
        if load is None or not math.isfinite(load):
            raised.append(rec)
            continue
        predicted = load / scale  # back to a reading, at the current count
        # Kept raised or not: the dashboards plot the forecast against what came.
        if predicted <= rec.value * (1 + ROUNDING):
            raised.append(_with_prediction(rec, predicted))
            continue
        replicas, _ = recommending.replicas_for(metric, predicted, current, ready, tolerances)
        if replicas > rec.replicas:
            rec = decisions.MetricRecommendation(
                metric=rec.metric,
                value=rec.value,
                target=rec.target,
                target_type=rec.target_type,
                replicas=replicas,
                forecast_value=predicted,
                note=rec.note,
                predicted=predicted,
            )
        else:
            rec = _with_prediction(rec, predicted)
        raised.append(rec)
    return tuple(raised)


def _with_prediction(rec: decisions.MetricRecommendation, predicted: float) -> decisions.MetricRecommendation:
    """dataclasses.replace(rec, predicted=predicted), spelt out: replace inspects the fields every call."""
    return decisions.MetricRecommendation(
        metric=rec.metric,
        value=rec.value,
        target=rec.target,
        target_type=rec.target_type,
        replicas=rec.replicas,
        forecast_value=rec.forecast_value,
        note=rec.note,
        sized_value=rec.sized_value,
        predicted=predicted,
    )
