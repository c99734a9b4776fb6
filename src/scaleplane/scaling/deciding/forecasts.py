"""The forecast models, as pure functions of one metric's (times, values): no state, no spec.

Models (`forecast.model`), measured against each other by bench/forecast_accuracy.py:
  last          the last value: no pre-scaling (the control in the benchmark).
  holt          Holt's linear trend, fitted each tick over `historySeconds` of `state.history`:
                    level_t = a*y_t + (1-a)*(level + trend);  trend_t = b*(level_t - level) + (1-b)*trend
                    forecast(h steps) = level + h * trend
  holt-winters  holt on the history with a seasonal profile taken out and put back:
                    forecast = holt(y - s[phase(t)])(h) + s[phase(t + h)]
                The profile s has at most 288 phase buckets over `seasonSeconds` (5-minute buckets for a
                day); how it is kept and learnt is `seasons`.
Ticks are taken as evenly spaced: the step is the mean spacing of the history.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

# Chosen by bench/forecast_accuracy.py (docs/benchmarks.md, "Forecast accuracy").
ALPHA = 0.3  # level smoothing
BETA = 0.1  # trend smoothing
MAX_BUCKETS = 288
MIN_POINTS = 4  # fewer than this, no trend can be told from noise: no forecast


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


def deseason(
    times: Sequence[float], values: Sequence[float], profile: Sequence[float], season: int
) -> list[float]:
    """values minus the profile at each time's phase (bucket_of, inlined: it runs once per sample)."""
    buckets = min(MAX_BUCKETS, season)
    scale = buckets / season
    return [y - profile[int((t % season) * scale) % buckets] for t, y in zip(times, values, strict=True)]


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
