"""Scheduled floors: known peaks as cron windows that raise the minimum.

A window is open from each firing of its `cron` (read in its `timezone`, DST as cron does it, through
the `cronsim` library) for `durationSeconds`. While any window is open, the policy's floor is the
highest `minReplicas` among the open windows (never above `maxReplicas`); outside them the floor is 0
and `minReplicas` of the policy alone applies.

With durations no longer than 7 days, the latest firing at or before `now` decides whether a window is
open: an earlier firing's window, of the same length, ended before the latest one's ends.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import cronsim

from scaleplane.scaling import specs


@functools.lru_cache(maxsize=256)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


@functools.lru_cache(maxsize=8192)
def _last_firing(cron: str, timezone: str, minute: int) -> float | None:
    # Cron fires on whole minutes, so every instant within one minute shares its latest firing; the
    # cache lets 10,000 policies with a handful of schedules share the work within a tick.
    # cronsim's reverse iteration excludes its start, so start within the minute to include its firing.
    at = datetime.fromtimestamp(minute * 60 + 30, tz=UTC).astimezone(zone(timezone))
    try:
        return next(iter(cronsim.CronSim(cron, at, reverse=True))).timestamp()
    except (StopIteration, cronsim.CronSimError):  # an expression that never fires
        return None


def last_firing(window: specs.ScheduleWindow, now: float) -> float | None:
    """The latest firing of the window's cron at or before `now`, as epoch seconds."""
    return _last_firing(window.cron, window.timezone, int(now // 60))


def is_open(window: specs.ScheduleWindow, now: float) -> bool:
    fired = last_firing(window, now)
    return fired is not None and fired <= now < fired + window.duration_seconds


def floor(spec: specs.ScalingPolicySpec, now: float) -> tuple[int, str | None]:
    """(floor, name of the window that sets it) at `now`; (0, None) when no window is open."""
    best, name = 0, None
    for window in spec.schedules:
        if window.min_replicas > best and is_open(window, now):
            best, name = window.min_replicas, window.name
    return min(best, spec.max_replicas), name
