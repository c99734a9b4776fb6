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


def _firings(cron: str, timezone: str, minute: int) -> tuple[float | None, float | None]:
    """(latest firing at or before the minute, next firing after it), as epoch seconds."""
    # cronsim's reverse iteration excludes its start, so start within the minute to include its firing.
    at = datetime.fromtimestamp(minute * 60 + 30, tz=UTC).astimezone(zone(timezone))
    try:
        last: float | None = next(iter(cronsim.CronSim(cron, at, reverse=True))).timestamp()
    except (StopIteration, cronsim.CronSimError):  # an expression that never fires
        last = None
    try:
        upcoming: float | None = next(iter(cronsim.CronSim(cron, at))).timestamp()
    except (StopIteration, cronsim.CronSimError):
        upcoming = None
    return last, upcoming


# (cron, timezone) -> (latest firing, next firing): valid for any `now` in [latest, next), so a window
# that fires daily costs one cron computation a day however many policies and ticks ask. A pure memo of
# a pure function; cleared when it grows past its bound.
_SPANS: dict[tuple[str, str], tuple[float, float]] = {}
_SPANS_BOUND = 4096


def last_firing(window: specs.ScheduleWindow, now: float) -> float | None:
    """The latest firing of the window's cron at or before `now`, as epoch seconds."""
    key = (window.cron, window.timezone)
    span = _SPANS.get(key)
    if span is not None and span[0] <= now < span[1]:
        return span[0]
    last, upcoming = _firings(window.cron, window.timezone, int(now // 60))
    if last is not None and upcoming is not None:
        if len(_SPANS) >= _SPANS_BOUND:
            _SPANS.clear()
        _SPANS[key] = (last, upcoming)
    return last


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
