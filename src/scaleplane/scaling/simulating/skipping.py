"""Run-length stepping: when the simulator may skip a span of ticks and know the engine's state after it.

A long span of constant (or zero) load costs one `decide` per sync tick when stepped. When the engine
and the modelled target are at a fixed point, every one of those calls returns the same decision and a
state that is the previous one moved forward in time; the simulator then jumps to the end of the span
and computes that state directly (`shifted`). The argument, from the engine's rules:

1. Time enters `decide` only through differences. Every stage compares a remembered timestamp with
   `now` minus a window or period (stabilization, rate limits, cooldown, quantile sizing's and the
   burst's windows, the history kept) or adds a duration to `now`. The exceptions read absolute time:
   schedules (cron windows), the seasonal forecast (time of day) and the forecast's error tracking and
   trend fit (arithmetic on timestamps); a policy with schedules or an enabled forecast is never skipped
   (`skippable`). Nor is one with `sizing.method: rise`: its histogram of rises (`scaling.deciding.headroom`)
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
3. Let sync tick k see observation O_k and leave state S_k, the previous sync tick (at t_p = t_k - D)
   having left S_p. If S_k == moved(S_p, D, t_p) (D = the sync period; compared exactly, field by field;
   `extra` must be empty, since what the skippable stages leave there, an open burst, holds an absolute
   time) and O_(k+D) == O_k + D, then by 1 and 2 the call at k + D returns the decision of k and
   moved(S_k, D, t_k); by induction the same holds at every later sync tick for as long as the
   observation stays the same.
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

from collections.abc import Sequence

import numpy as np

from scaleplane.scaling import decisions, specs
from scaleplane.scaling.deciding import behaviors
from scaleplane.scaling.simulating import runlengths

EXACT_SECONDS = 2.0**53  # whole seconds below this add exactly as floats


def skippable(spec: specs.ScalingPolicySpec, start: float, tick_seconds: float, ticks: int) -> bool:
    """Whether time enters this policy's decisions only through differences, computed exactly (rule 1)."""
    if spec.schedules or (spec.forecast is not None and spec.forecast.enabled):
        return False
    if spec.sizing is not None and spec.sizing.method == "rise":
        return (
            False  # its histogram changes every tick (a count grows until its block leaves): no fixed point
        )
    whole = float(start).is_integer() and float(tick_seconds).is_integer()
    return whole and abs(start) + (ticks + 1) * tick_seconds < EXACT_SECONDS / 4


def moved(
    spec: specs.ScalingPolicySpec, state: decisions.ScalingState, seconds: float, now: float
) -> decisions.ScalingState | None:
    """The state left at `now` with every live time `seconds` later (rule 2); None when it holds times
    this cannot move (anything in `extra`)."""
    if state.extra:
        return None
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
        extra={},
    )


def at_fixed_point(
    spec: specs.ScalingPolicySpec,
    before: decisions.ScalingState | None,
    after: decisions.ScalingState,
    sync_seconds: float,
    now: float,
) -> bool:
    """Rule 3: the state the sync tick at `now` left is the previous one's, moved by one sync period."""
    return (
        before is not None
        and not after.extra
        and moved(spec, before, sync_seconds, now - sync_seconds) == after
    )


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
