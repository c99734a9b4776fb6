"""Run-length stepping: when the simulator may skip a span of ticks and know the engine's state after it.

A long span of constant (or zero) load costs one `decide` per sync tick when stepped. When the engine
and the modelled target are at a fixed point, every one of those calls returns the same decision and a
state that is the previous one moved forward in time; the simulator then jumps to the end of the span
and computes that state directly (`shifted`). The argument, from the engine's rules:

1. Time enters `decide` only through differences. Every stage compares a remembered timestamp with
   `now` minus a window or period (stabilization, rate limits, cooldown, quantile sizing's and the
   burst's windows, the history kept) or adds a duration to `now`. The exceptions read absolute time:
   schedules (cron windows) and the seasonal forecast (time of day): a policy with schedules or a
   holt-winters forecast (or a `seasonSeconds`) is never skipped (`skippable`). Holt's trend fit reads
   the history's times only as differences (its step is the mean spacing), and the error tracking keeps
   each pending forecast's due time as `now` + the horizon and compares it with `now`: both move.
   Nor is one with `sizing.method: rise`: its histogram of rises (`scaling.deciding.headroom`)
   counts one more rise at every tick, even under constant load, so its state is never a fixed point.
   So, with every timestamp and `now` moved by the same D,
   decide(obs + D, shift(S, D), now + D) = (decision + D, shift(S', D)) where (decision, S') =
   decide(obs, S, now). Moving by D is exact (no float rounding) when every time is a whole number of
   seconds below 2^53: the simulator checks that the trace's start and the tick are whole seconds.
2. Some remembered times no rule can tell apart any more, and stay so: a recommendation older than the
   longest stabilization window (the HPA keeps the newest one however old, and no window reads it),
   and `lastActiveAt` when no cooldown can read it (minReplicas above 0) or the cooldown has passed
   (`lastActiveAt + cooldownSeconds < now` stays true as `now` grows). Such a time is "dead": it is kept
   as it is, not moved; `moved(S, D, t)` moves every other time by D. Since decide reads a dead time only
   through comparisons that stay the same, rule 1 holds with `moved` in place of the plain shift.
   One count grows under constant load: the error tracking's `n`, the forecasts checked so far
   (`forecastErrors`), read only as `n == 0` and `n < MIN_ERRORS`. Once it is past MIN_ERRORS (or does
   not grow) those reads stay the same, so `moved` adds the checks of the span to it (`checks`: per sync
   tick, the growth between the two ticks compared) and rule 1 holds; before that, no skip.
3. Let sync tick k see observation O_k and leave state S_k, the previous sync tick (at t_p = t_k - D)
   having left S_p. If S_k == moved(S_p, D, t_p) (D = the sync period; compared exactly, field by field;
   `extra` may hold only the error tracking, whose due times move: an open burst holds an absolute
   time that `moved` does not move) and O_(k+D) == O_k + D, then by 1 and 2 the call at k + D
   returns the decision of k and moved(S_k, D, t_k); by induction the same holds at every later sync
   tick for as long as the observation stays the same.
4. The observation stays the same while: the decision at k changed nothing (its count is the billed
   count and no start-up is pending, so billed and ready stay put); the demand is one constant value
   over every rate window from k on (each window then sums the same values in the same order: the same
   float); and no work waits (the queue is empty at tick k's start and the tick's arrivals fit its
   capacity, so the backlog signal stays 0 and nothing queues).
So the ticks up to the demand's next change are identical to tick k (same billed, ready, backlog, no
violation, no overload), each skipped sync tick counts the same decision reason, and the state after
the last skipped sync tick is moved(S_k, n x D, t_k). Whenever a condition fails, the simulator steps.
`tests/scaling/test_simulation_skipping.py` checks, over random policies and traces, that skipping
gives exactly the Outcome that stepping gives.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from scaleplane.scaling import decisions, specs
from scaleplane.scaling.deciding import behaviors, forecasterrors
from scaleplane.scaling.simulating import runlengths

EXACT_SECONDS = 2.0**53  # whole seconds below this add exactly as floats


def skippable(spec: specs.ScalingPolicySpec, start: float, tick_seconds: float, ticks: int) -> bool:
    """Whether time enters this policy's decisions only through differences, computed exactly (rule 1)."""
    if spec.schedules:
        return False
    forecast = spec.forecast
    seasonal = forecast is not None and (forecast.model == "holt-winters" or forecast.season_seconds)
    if forecast is not None and forecast.enabled and seasonal:
        return False  # the seasonal profile is indexed by the time of day
    if spec.sizing is not None and spec.sizing.method == "rise":
        return (
            False  # its histogram changes every tick (a count grows until its block leaves): no fixed point
        )
    whole = float(start).is_integer() and float(tick_seconds).is_integer()
    return whole and abs(start) + (ticks + 1) * tick_seconds < EXACT_SECONDS / 4


def moved(
    spec: specs.ScalingPolicySpec,
    state: decisions.ScalingState,
    seconds: float,
    now: float,
    checks: Mapping[str, int] | None = None,
) -> decisions.ScalingState | None:
    """The state left at `now` with every live time `seconds` later (rule 2) and `checks[metric]` more
    forecasts checked; None when it holds what this cannot move (anything in `extra` but the error
    tracking, or a due time that is not a whole second)."""
    extra: dict[str, Any] = {}
    if state.extra:
        errors = _moved_errors(state.extra, seconds, checks or {})
        if errors is None:
            return None
        extra["forecastErrors"] = errors
    oldest_read = now - behaviors.longest_window(spec.behavior)
    active = state.last_active_at
    if active is not None and spec.min_replicas == 0 and not active + spec.cooldown_seconds < now:
        active += seconds  # a cooldown may still read it
    return decisions.ScalingState(
        recommendations=tuple(
            (at + seconds if at > oldest_read else at, count) for at, count in state.recommendations
        ),
        scale_events=tuple((at + seconds, before, after) for at, before, after in state.scale_events),
        history=tuple((at + seconds, name, value) for at, name, value in state.history),
        consecutive_failures=state.consecutive_failures,
        last_active_at=active,
        extra=extra,
    )


def _moved_errors(
    extra: Mapping[str, Any], seconds: float, checks: Mapping[str, int]
) -> dict[str, Any] | None:
    """`forecastErrors` with its due times `seconds` later and `checks` added to its counts, or None."""
    tracked = extra.get("forecastErrors")
    if set(extra) != {"forecastErrors"} or not isinstance(tracked, dict):
        return None
    moved_errors: dict[str, Any] = {}
    for metric, entry in tracked.items():
        pending = entry.get("pending") if isinstance(entry, dict) else None
        if not isinstance(pending, list) or not isinstance(entry.get("n"), int):
            return None
        if not all(float(due).is_integer() for due, _ in pending):
            return None  # moving it would round
        moved_errors[metric] = {
            "mse": entry.get("mse"),
            "n": entry["n"] + checks.get(metric, 0),
            "pending": [[due + seconds, load] for due, load in pending],
        }
    return moved_errors


def _checks_per_sync(before: decisions.ScalingState, after: decisions.ScalingState) -> dict[str, int] | None:
    """How many more forecasts each metric had checked at `after` than at `before` (rule 2's count);
    None when a count that grows is still read differently as it grows (under MIN_ERRORS)."""
    old, new = before.extra.get("forecastErrors"), after.extra.get("forecastErrors")
    if not isinstance(new, dict):
        return {}
    counts: dict[str, int] = {}
    for metric, entry in new.items():
        previous = old.get(metric) if isinstance(old, dict) else None
        if not isinstance(entry, dict) or not isinstance(previous, dict):
            return None
        n, was = entry.get("n"), previous.get("n")
        if not isinstance(n, int) or not isinstance(was, int) or n < was:
            return None
        if n > was and was < forecasterrors.MIN_ERRORS:
            return None
        counts[metric] = n - was
    return counts


def fixed_point_checks(
    spec: specs.ScalingPolicySpec,
    before: decisions.ScalingState | None,
    after: decisions.ScalingState,
    sync_seconds: float,
    now: float,
) -> dict[str, int] | None:
    """Rule 3: when the state the sync tick at `now` left is the previous one's moved by one sync
    period, the forecasts each metric checked in that period (rule 2's count, empty without error
    tracking); None when it is not."""
    if before is None:
        return None
    checks = _checks_per_sync(before, after)
    if checks is None or moved(spec, before, sync_seconds, now - sync_seconds, checks) != after:
        return None
    return checks


class Runs:
    """Where each run of equal demand values starts and ends (the ticks between its changes)."""

    def __init__(self, demand: Sequence[float] | runlengths.Runs) -> None:
        if isinstance(demand, runlengths.Runs):  # a run boundary between equal values only skips less
            self.ticks = demand.ticks
            self.changes = np.asarray(demand.starts()[1:], dtype=np.int64)
            return
        values = np.asarray(demand, dtype=np.float64)
        self.ticks = len(values)
        self.changes = np.flatnonzero(values[1:] != values[:-1]) + 1  # NaN != NaN: never one run

    def start_of(self, k: int) -> int:
        i = int(np.searchsorted(self.changes, k, side="right"))
        return int(self.changes[i - 1]) if i > 0 else 0

    def end_of(self, k: int) -> int:
        i = int(np.searchsorted(self.changes, k, side="right"))
        return int(self.changes[i]) if i < len(self.changes) else self.ticks
