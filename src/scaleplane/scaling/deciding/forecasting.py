"""Forecast mode: pre-scale for the target's start-up time from the recent history of each metric.

Every tick, for each metric that read fine, the engine forecasts its value `startupSeconds` plus one
tick ahead (a replica asked for now serves from then on) and recommends for max(observed, forecast):
the forecast only ever adds capacity early, it never removes capacity the observed load needs.

Models (`forecast.model`), measured against each other by bench/forecast_accuracy.py:
  last          the last value: no pre-scaling (the control in the benchmark).
  holt          Holt's linear trend, fitted each tick over `historySeconds` of `state.history`:
                    level_t = a*y_t + (1-a)*(level + trend);  trend_t = b*(level_t - level) + (1-b)*trend
                    forecast(h steps) = level + h * trend
  holt-winters  holt on the history with a seasonal profile taken out and put back:
                    forecast = holt(y - s[phase(t)])(h) + s[phase(t + h)]
                The profile s has at most 288 phase buckets over `seasonSeconds` (5-minute buckets for a
                day), kept in `state.extra["seasonal"]` and learnt one tick at a time
                (s[k] += g * (y - level - s[k])), so a daily season costs 288 numbers, not a day of samples.
Ticks are taken as evenly spaced: the step is the mean spacing of the history.
"""

from __future__ import annotations

import functools
import math
import statistics
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from scaleplane.scaling import decisions, facts, specs
from scaleplane.scaling.deciding import recommending

# Chosen by bench/forecast_accuracy.py (docs/benchmarks.md, "Forecast accuracy").
ALPHA = 0.3  # level smoothing
BETA = 0.1  # trend smoothing
GAMMA = 0.3  # seasonal profile learning rate
MAX_BUCKETS = 288
ROUNDING = 1e-9  # a forecast this close above the reading is the reading (the dot product's round-off)
MIN_POINTS = 4  # fewer than this, no trend can be told from noise: no forecast
ERROR_WEIGHT = 0.1  # the RMS error is an exponential mean over about the last 10 forecasts checked
MIN_ERRORS = 3  # fewer checked forecasts than this: the error is not known yet, use the point forecast


def holt(values: Sequence[float], steps_ahead: float, alpha: float = ALPHA, beta: float = BETA) -> float:
    """Holt's linear trend forecast `steps_ahead` steps after the last value (pre: len(values) >= 2).

    The recursion is linear in the values, so its result is a dot product with weights that depend only
    on (len(values), alpha, beta): computed once (`holt_weights`) and reused every tick, which makes a
    forecast one numpy dot instead of a Python loop over the history.
    """
    weights = holt_weights(len(values), alpha, beta)
    with np.errstate(all="ignore"):  # readings near the float limit give inf or nan, which callers drop
        level, trend = (weights @ np.fromiter(values, dtype=np.float64, count=len(values))).tolist()
    # Python floats are IEEE doubles as numpy's are: the same sum, without numpy scalars' overhead
    result: float = level + steps_ahead * trend
    return result


@functools.lru_cache(maxsize=64)
def holt_weights(n: int, alpha: float, beta: float) -> NDArray[np.float64]:
    """Rows (w_level, w_trend) with level = w_level . y and trend = w_trend . y after Holt's recursion.

    The recursion over (level, trend), starting from (y0, y1 - y0) and taking y1 .. y[n-1]:
        level' = a*y + (1-a)*(level + trend);  trend' = a*b*y - a*b*level + (1 - a*b)*trend
    i.e. state' = M state + v y with M = [[1-a, 1-a], [-a*b, 1-a*b]] and v = (a, a*b). So y_i (i >= 1)
    reaches the end as M^(n-1-i) v, and the start (y0, y1 - y0) as M^(n-1).
    """
    m = np.array([[1 - alpha, 1 - alpha], [-alpha * beta, 1 - alpha * beta]])
    v = np.array([alpha, alpha * beta])
    weights = np.zeros((2, n))
    power = np.eye(2)  # M^(n-1-i), walking i down from n-1 to 1
    for i in range(n - 1, 0, -1):
        weights[:, i] += power @ v
        power = m @ power
    weights[:, 0] += power @ np.array([1.0, -1.0])  # the start: level y0, trend y1 - y0
    weights[:, 1] += power @ np.array([0.0, 1.0])
    weights.setflags(write=False)
    return weights


def holt_level(values: Sequence[float], alpha: float = ALPHA, beta: float = BETA) -> float:
    return holt(values, 0.0, alpha, beta)


def bucket_of(at: float, season_seconds: int) -> int:
    buckets = min(MAX_BUCKETS, season_seconds)
    return int((at % season_seconds) * (buckets / season_seconds)) % buckets


def profile_of(state: decisions.ScalingState, metric: str, season_seconds: int) -> list[float] | None:
    seasonal = state.extra.get("seasonal")
    if not isinstance(seasonal, dict):
        return None
    entry = seasonal.get(metric)
    if not isinstance(entry, dict) or entry.get("seasonSeconds") != season_seconds:
        return None  # a changed season invalidates what was learnt
    profile = entry.get("profile")
    buckets = min(MAX_BUCKETS, season_seconds)
    if not isinstance(profile, list) or len(profile) != buckets:
        return None
    try:
        values = list(map(float, profile))  # C speed; the state came through JSON, ints are fine
    except (TypeError, ValueError):
        return None  # a hand-edited state: start learning again
    if not math.isfinite(sum(values)):
        values = [v if math.isfinite(v) else 0.0 for v in values]
    return values


def deseason(
    times: Sequence[float], values: Sequence[float], profile: Sequence[float], season: int
) -> list[float]:
    """values minus the profile at each time's phase (bucket_of, inlined: it runs once per sample)."""
    buckets = min(MAX_BUCKETS, season)
    scale = buckets / season
    return [y - profile[int((t % season) * scale) % buckets] for t, y in zip(times, values, strict=True)]


def series(
    state: decisions.ScalingState, metric: str, now: float, value: float
) -> tuple[list[float], list[float]]:
    """(times, values) of one metric's remembered history, with this tick's value last."""
    if state.history and state.history[-1][0] < now:
        at, only, readings = _columns(state.history)
        if only == metric:  # one metric (the usual case): no filter, at C speed
            return [*at, now], [*readings, value]
    times = [at for at, name, _ in state.history if name == metric and at < now]
    values = [v for at, name, v in state.history if name == metric and at < now]
    times.append(now)
    values.append(value)
    return times, values


def forecast(
    model: str,
    times: Sequence[float],
    values: Sequence[float],
    horizon_seconds: float,
    season_seconds: int | None = None,
    profile: Sequence[float] | None = None,
    alpha: float = ALPHA,
    beta: float = BETA,
) -> float | None:
    """The value `horizon_seconds` after the last time; None when there is too little history."""
    if model == "last" or len(values) < MIN_POINTS:
        return None
    step = (times[-1] - times[0]) / (len(times) - 1)
    if step <= 0:
        return None
    steps_ahead = horizon_seconds / step
    if model == "holt-winters" and season_seconds and profile is not None:
        deseasoned = deseason(times, values, profile, season_seconds)
        ahead = profile[bucket_of(times[-1] + horizon_seconds, season_seconds)]
        return holt(deseasoned, steps_ahead, alpha, beta) + ahead
    return holt(values, steps_ahead, alpha, beta)


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
        times, values = series(state, rec.metric, now, max(rec.value, 0.0) * scale)
        if spec.sizing is not None and spec.sizing.history_seconds > settings.history_seconds:
            keep = [i for i, at in enumerate(times) if at > now - settings.history_seconds]
            times, values = [times[i] for i in keep], [values[i] for i in keep]
        horizon = settings.startup_seconds + (times[-1] - times[0]) / max(1, len(times) - 1)
        season = settings.season_seconds
        profile = profile_of(state, rec.metric, season) if season else None
        load = forecast(settings.model, times, values, horizon, season, profile)
        if load is not None and settings.error_quantile is not None:
            load = with_error(load, state, rec.metric, settings.error_quantile)
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


def with_error(load: float, state: decisions.ScalingState, metric: str, quantile: float) -> float:
    """The `quantile` of the forecast's distribution: load + z(quantile) x its RMS error so far."""
    entry = state.extra.get("forecastErrors", {})
    tracked = entry.get(metric) if isinstance(entry, dict) else None
    if not isinstance(tracked, dict) or not isinstance(tracked.get("mse"), int | float):
        return load
    if (
        not isinstance(tracked.get("n"), int)
        or tracked["n"] < MIN_ERRORS
        or not math.isfinite(tracked["mse"])
    ):
        return load
    return load + _z_of(quantile) * math.sqrt(max(0.0, tracked["mse"]))


@functools.lru_cache(maxsize=64)
def _z_of(quantile: float) -> float:
    """The standard normal quantile (NormalDist.inv_cdf is pure Python: once per setting, not per tick)."""
    return statistics.NormalDist().inv_cdf(quantile)


def learn_errors(
    spec: specs.ScalingPolicySpec,
    state: decisions.ScalingState,
    history: Sequence[tuple[float, str, float]],
    now: float,
) -> dict[str, Any]:
    """Check the forecasts now due against this tick's loads, and remember this tick's forecasts.

    `state.extra["forecastErrors"][metric]` = {"mse": exponential mean of squared errors, "n": how many
    were checked, "pending": [[due time, forecast load], ...]} (at most horizon / tick entries).
    """
    settings = spec.forecast
    assert settings is not None and settings.error_quantile is not None
    previous = state.extra.get("forecastErrors")
    tracked: dict[str, Any] = {}
    for metric in spec.metrics:
        old = previous.get(metric.name) if isinstance(previous, dict) else None
        entry = old if isinstance(old, dict) else {}
        raw_mse, raw_n = entry.get("mse"), entry.get("n")
        mse = float(raw_mse) if isinstance(raw_mse, int | float) else 0.0
        n = raw_n if isinstance(raw_n, int) else 0
        pending = [p for p in entry.get("pending", []) if isinstance(p, list) and len(p) == 2]
        times, values = _of_metric(history, metric.name)
        if not times or times[-1] != now:  # no reading this tick: nothing to check or forecast
            tracked[metric.name] = {"mse": mse, "n": n, "pending": pending}
            continue
        due = [p for p in pending if p[0] <= now + 1.0]
        for _, predicted in due:
            error = values[-1] - float(predicted)
            mse = error * error if n == 0 else (1 - ERROR_WEIGHT) * mse + ERROR_WEIGHT * error * error
            n += 1
        pending = [p for p in pending if p[0] > now + 1.0]
        step = (times[-1] - times[0]) / max(1, len(times) - 1)
        horizon = settings.startup_seconds + step
        load = forecast(settings.model, times, values, horizon)
        if load is not None and math.isfinite(load) and step > 0:
            pending.append([now + horizon, load])
        tracked[metric.name] = {"mse": mse, "n": n, "pending": pending}
    return tracked


def _of_metric(history: Sequence[tuple[float, str, float]], metric: str) -> tuple[list[float], list[float]]:
    """(times, values) of one metric's entries, in the history's order."""
    if not history:
        return [], []
    at, only, readings = _columns(history)
    if only == metric:  # one metric (the usual case): no filter, at C speed
        return list(at), list(readings)
    return [t for t, n, _ in history if n == metric], [v for _, n, v in history if n == metric]


_Columns = tuple[tuple[float, ...], str | None, tuple[float, ...]]
_LAST_COLUMNS: list[tuple[object, _Columns]] = [((), ((), None, ()))]  # one entry, swapped whole


def _columns(history: Sequence[tuple[float, str, float]]) -> _Columns:
    """(times, the metric's name when every entry is that one metric's, else None, values).

    Remembered for the last history seen: the history a tick leaves (learn_errors reads it) is the one
    the next tick forecasts from (series). Histories are tuples, never changed in place, and the entry
    holds the tuple itself, so an identity check is exact; one assignment swaps the entry (threads).
    """
    held, columns = _LAST_COLUMNS[0]
    if held is history:
        return columns
    at, names, readings = zip(*history, strict=True)
    only = names[0] if names.count(names[0]) == len(names) else None
    columns = (at, only, readings)
    if type(history) is tuple:  # a list could change after this call
        _LAST_COLUMNS[0] = (history, columns)
    return columns


def cached_columns(history: Sequence[tuple[float, str, float]]) -> _Columns | None:
    """The columns `_columns` holds for this very history, else None (nothing is computed)."""
    held, columns = _LAST_COLUMNS[0]
    return columns if held is history else None


def extend_columns(
    history: tuple[tuple[float, str, float], ...],
    old: _Columns,
    first: int,
    last: int,
    added: Sequence[tuple[float, str, float]],
) -> None:
    """Hold the columns of `history` = the old history's [first:last] + `added`, by slicing the old
    columns (no pass over the entries); when they hold one metric and `added` is only that one."""
    at, only, readings = old
    if only is None or first >= last or any(name != only for _, name, _ in added):
        return
    columns = (
        at[first:last] + tuple(t for t, _, _ in added),
        only,
        readings[first:last] + tuple(v for _, _, v in added),
    )
    _LAST_COLUMNS[0] = (history, columns)


def learn_seasons(
    spec: specs.ScalingPolicySpec,
    state: decisions.ScalingState,
    history: Sequence[tuple[float, str, float]],
    now: float,
) -> dict[str, Any]:
    """state.extra with each metric's seasonal profile moved one step towards this tick's residual."""
    settings = spec.forecast
    extra = dict(state.extra)
    if settings is None or settings.model != "holt-winters" or not settings.season_seconds:
        extra.pop("seasonal", None)
        return extra
    season = settings.season_seconds
    seasonal: dict[str, Any] = {}
    for metric in spec.metrics:
        profile = profile_of(state, metric.name, season) or [0.0] * min(MAX_BUCKETS, season)
        times, values = _of_metric(history, metric.name)
        if times and times[-1] == now and len(values) >= 2:
            deseasoned = deseason(times, values, profile, season)
            level = holt_level(deseasoned)
            k = bucket_of(now, season)
            profile[k] += GAMMA * (values[-1] - level - profile[k])
        seasonal[metric.name] = {"seasonSeconds": season, "profile": profile}
    extra["seasonal"] = seasonal
    return extra
