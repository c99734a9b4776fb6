"""A forecast that knows its error (`forecast.errorQuantile`): each forecast is checked when it falls due.

`state.extra["forecastErrors"][metric]` = {"mse": exponential mean of squared errors, "n": how many
were checked, "pending": [[due time, forecast load], ...]} (at most horizon / tick entries). Each tick
`learn_errors` checks the forecasts now due against this tick's load and remembers this tick's own;
`with_error` raises a forecast to the `errorQuantile` of a normal distribution around it with that RMS
error, once at least MIN_ERRORS forecasts were checked (before that the error is not known, and the
point forecast is used). The pending forecasts are the plain model's, without the seasonal profile: the
error is of the forecast the trend alone gives.
"""

from __future__ import annotations

import functools
import math
import statistics
from collections.abc import Sequence
from typing import Any

from scaleplane.scaling import decisions, specs
from scaleplane.scaling.deciding import forecasts, histories

ERROR_WEIGHT = 0.1  # the RMS error is an exponential mean over about the last 10 forecasts checked
MIN_ERRORS = 3  # fewer checked forecasts than this: the error is not known yet, use the point forecast


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
    """Check the forecasts now due against this tick's loads, and remember this tick's forecasts."""
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
        times, values = histories.of_metric(history, metric.name)
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
        load = forecasts.forecast(settings.model, times, values, horizon)
        if load is not None and math.isfinite(load) and step > 0:
            pending.append([now + horizon, load])
        tracked[metric.name] = {"mse": mse, "n": n, "pending": pending}
    return tracked
