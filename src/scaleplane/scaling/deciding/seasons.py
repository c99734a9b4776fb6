"""The holt-winters seasonal profiles: kept in the state, learnt one tick at a time.

`state.extra["seasonal"][metric]` = {"seasonSeconds": the season, "profile": one number per phase
bucket of the season}: min(288, seasonSeconds) buckets (`forecasts.bucket_of`), so 5-minute buckets
for a day and one-second buckets for a season under 288 s. Each tick moves the bucket of `now`
towards this tick's residual:
    s[k] += GAMMA * (y - level - s[k]),  level = Holt's level of the history with the profile taken out
so a daily season costs 288 numbers in a CR status, not a day of samples. A profile that does not fit
the current setting (another season, another bucket count, a value that is no number) is learnt afresh
from zeros: what was learnt for another season says nothing about this one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from scaleplane.scaling import decisions, specs
from scaleplane.scaling.deciding import forecasts, histories

GAMMA = 0.3  # seasonal profile learning rate (bench/forecast_accuracy.py)


def profile_of(state: decisions.ScalingState, metric: str, season_seconds: int) -> list[float] | None:
    seasonal = state.extra.get("seasonal")
    if not isinstance(seasonal, dict):
        return None
    entry = seasonal.get(metric)
    if not isinstance(entry, dict) or entry.get("seasonSeconds") != season_seconds:
        return None  # a changed season invalidates what was learnt
    profile = entry.get("profile")
    buckets = min(forecasts.MAX_BUCKETS, season_seconds)
    if not isinstance(profile, list) or len(profile) != buckets:
        return None
    try:
        values = list(map(float, profile))  # C speed; the state came through JSON, ints are fine
    except (TypeError, ValueError):
        return None  # a hand-edited state: start learning again
    if not math.isfinite(sum(values)):
        values = [v if math.isfinite(v) else 0.0 for v in values]
    return values


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
        profile = profile_of(state, metric.name, season) or [0.0] * min(forecasts.MAX_BUCKETS, season)
        times, values = histories.of_metric(history, metric.name)
        if times and times[-1] == now and len(values) >= 2:
            deseasoned = forecasts.deseason(times, values, profile, season)
            level = forecasts.holt_level(deseasoned)
            k = forecasts.bucket_of(now, season)
            profile[k] += GAMMA * (values[-1] - level - profile[k])
        seasonal[metric.name] = {"seasonSeconds": season, "profile": profile}
    extra["seasonal"] = seasonal
    return extra
