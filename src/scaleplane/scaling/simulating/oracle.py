"""The oracle: the fewest replica-hours any autoscaler could spend on a trace, knowing the whole future.

The model is the simulator's (see `simulation`), on the same ticks of `tick` seconds:

- tick k needs `need[k] = clamp(ceil(demand[k] / capacity_per_replica), min, max)` READY replicas to
  serve its demand with no SLO violation (when the demand needs more than `max`, the oracle runs `max`
  and the violation is unavoidable: `slo_violation_minutes` counts those ticks);
- a replica is billed from the tick it is requested; it is ready `L = ceil(startup / tick)` ticks later;
  a replica is removed at once and billing stops;
- at the start, `need[0]` replicas are ready (the simulated policies start the same way); any replica
  beyond them must be requested L ticks before it is needed, even if that is before the trace starts;
- the bill covers the trace's ticks only, as a policy's does: a replica requested before tick 0 is
  billed from tick 0 (a start ready at tick b costs min(b, L) ticks). Billing the ticks before the
  trace too made the oracle dearer than the policies it bounds whenever the start-up is long against
  the trace (`--startup 86400` on a day: 2,193 oracle hours, 1,195 billed in-trace, for a policy whose
  new replicas never became ready; the oracle bounds the runs that meet the SLO, and that one violated
  all day).

So the bill is  sum_k ready[k] + sum over starts of min(b, L),  minimised over ready[k] >= need[k].
Both terms split over levels j = 1, 2, ...: whether ready[k] >= j. Each level is independent: it must be
up on every tick where need[k] >= j, and between two such runs separated by a gap of g ticks it is
cheaper to keep the replica idle (g ticks) than to stop and start it again (L ticks) exactly when g <= L.
Summing the best choice per level gives the exact optimum (the classic offline result for capacity
provisioning with a linear start-up cost).

`plan` computes it without walking the levels one by one (so maxReplicas 100,000,000 costs what 100
does): a gap at some level is a pair of ticks l < r whose needs both exceed every need between them; it
spans levels max(need between) + 1 .. min(need[l], need[r]). A monotonic stack finds every such pair in
one pass (O(ticks) pairs); a pair with r - l - 1 <= L bridges all its levels, so every tick between
them is up to min(need[l], need[r]) (the lower levels' gaps inside it are shorter: bridged too). Then
ready[k] is known, each increase of ready is a start, billed over the L ticks before it (those within
the trace). The per-level choice is unchanged by the in-trace bill: a gap of g ticks before a run
starting at tick r has g < r, so bridging (g) beats a restart (min(r, L)) exactly when g <= L.
Cost: O(ticks) Python steps plus O(ticks x L) numpy element operations at worst.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from scaleplane.scaling.simulating import runlengths

EPSILON = 1e-9  # demand exactly equal to capacity is served: ceil(5.000000001) must not become 6


@dataclass(frozen=True)
class OraclePlan:
    replica_hours: float
    slo_violation_minutes: float  # unavoidable: ticks whose demand needs more than maxReplicas
    scale_events: int  # ticks at which the billed count changes
    billed: Sequence[int]  # replicas billed (ready + starting) on each tick (a tuple, or a run view)
    ready: Sequence[int]  # replicas ready on each tick


def needed(demand: float, capacity_per_replica: float) -> int:
    """The fewest ready replicas that serve `demand` (work units/s) within one tick."""
    return max(0, math.ceil(demand / capacity_per_replica - EPSILON))


def plan(
    demand: Sequence[float],
    *,
    capacity_per_replica: float,
    startup_ticks: int,
    tick_seconds: float,
    min_replicas: int,
    max_replicas: int,
) -> OraclePlan:
    wanted = np.ceil(np.asarray(demand, dtype=np.float64) / capacity_per_replica - EPSILON)
    raw = np.clip(np.nan_to_num(wanted, nan=0.0, posinf=float(2**62)), 0, 2**62).astype(np.int64)
    need = np.clip(raw, min_replicas, max_replicas)
    ticks = len(need)
    ready = need.copy()
    heights = need.tolist()
    for left, right in _gaps(heights):
        if right - left - 1 <= startup_ticks:
            ready[left + 1 : right] = np.maximum(ready[left + 1 : right], min(heights[left], heights[right]))
    increases = np.maximum(0, np.diff(ready, prepend=ready[:1]))  # starts ready at tick b (none at 0)
    # starting[k] = replicas that become ready within (k, k + L]: billed while they start
    ahead = np.concatenate((np.cumsum(increases[::-1])[::-1], [0]))
    window = np.minimum(np.arange(ticks) + 1 + startup_ticks, ticks)
    starting = ahead[np.arange(ticks) + 1] - ahead[window]
    billed = ready + starting
    hours = int(billed.sum()) * tick_seconds / 3600.0
    unavoidable = int(np.count_nonzero(raw > max_replicas))
    events = int(np.count_nonzero(np.diff(billed)))
    return OraclePlan(
        replica_hours=hours,
        slo_violation_minutes=unavoidable * tick_seconds / 60.0,
        scale_events=events,
        billed=tuple(billed.tolist()),
        ready=tuple(ready.tolist()),
    )


def _gaps(heights: list[int]) -> list[tuple[int, int]]:
    """Every pair l < r - 1 whose heights both exceed every height strictly between them."""
    pairs: list[tuple[int, int]] = []
    stack: list[int] = []  # indices of strictly decreasing heights
    for right, height in enumerate(heights):
        between: int | None = None  # the highest height between stack[-1] and right
        while stack and heights[stack[-1]] <= height:
            left = stack.pop()
            if between is not None and heights[left] > between:
                pairs.append((left, right))
            between = heights[left]
        if stack and between is not None and height > between:
            pairs.append((stack[-1], right))
        stack.append(right)
    return pairs


def backlog(arrivals: Sequence[float], ready: Sequence[int], capacity_per_tick: float) -> list[float]:
    """The queue at each tick's start under the oracle's ready replicas (non-zero only beyond maxReplicas)."""
    queue, carried = 0.0, []
    for work, count in zip(arrivals, ready, strict=True):
        carried.append(queue)
        queue = max(0.0, queue + work - count * capacity_per_tick)
    return carried


@dataclass(frozen=True)
class RunPlan:
    """`plan` on runs: the same numbers, with the per-tick counts as runs."""

    replica_hours: float
    slo_violation_minutes: float
    scale_events: int
    billed: runlengths.Runs
    ready: runlengths.Runs


def plan_runs(
    demand: runlengths.Runs,
    *,
    capacity_per_replica: float,
    startup_ticks: int,
    tick_seconds: float,
    min_replicas: int,
    max_replicas: int,
) -> RunPlan:
    """`plan(demand.expanded(), ...)` in O(runs) Python steps: the gaps are between runs of equal need
    (a gap's ends are the last tick of one run and the first of another, every tick between lower), and
    the bill is sum of ready x length + each start x min(its tick, L), in integers as `plan` sums them."""
    wanted = np.ceil(np.asarray(demand.values, dtype=np.float64) / capacity_per_replica - EPSILON)
    raw = np.clip(np.nan_to_num(wanted, nan=0.0, posinf=float(2**62)), 0, 2**62).astype(np.int64)
    need = np.clip(raw, min_replicas, max_replicas).tolist()
    unavoidable = sum(n for r, n in zip(raw.tolist(), demand.lengths, strict=True) if r > max_replicas)
    heights: list[int] = []  # blocks: runs of equal need, merged
    lengths: list[int] = []
    for h, n in zip(need, demand.lengths, strict=True):
        if heights and heights[-1] == h:
            lengths[-1] += n
        else:
            heights.append(h)
            lengths.append(n)
    starts = list(itertools.accumulate(lengths, initial=0))  # starts[j]: block j's first tick
    ticks = starts[-1]
    ready = np.asarray(heights, dtype=np.int64)
    for left, right in _gaps(heights):
        if starts[right] - starts[left + 1] <= startup_ticks:  # the gap: every tick of blocks between
            ready[left + 1 : right] = np.maximum(ready[left + 1 : right], min(heights[left], heights[right]))
    levels: list[int] = ready.tolist()
    # starts ready at the first tick of a block that is higher than the one before it
    rises = [
        (starts[j], levels[j] - levels[j - 1]) for j in range(1, len(levels)) if levels[j] > levels[j - 1]
    ]
    billed_sum = sum(r * n for r, n in zip(levels, lengths, strict=True))
    billed_sum += sum(count * min(at, startup_ticks) for at, count in rises)
    at_rise = [at for at, _ in rises]
    ahead = list(itertools.accumulate((count for _, count in rises), initial=0))

    def billed(k: int) -> int:  # ready at k + the starts ready within (k, k + L]
        block = bisect.bisect_right(starts, k) - 1
        starting = (
            ahead[bisect.bisect_right(at_rise, k + startup_ticks)] - ahead[bisect.bisect_right(at_rise, k)]
        )
        return levels[block] + starting

    # billed changes only where ready does (a block's start) or where a start enters the window (b - L)
    changes = sorted({b for b in starts[1:-1]} | {at - startup_ticks for at in at_rise} - {0})
    changes = [k for k in changes if 0 < k < ticks]
    bounds = [0, *changes]
    counts = [billed(k) for k in bounds]
    events = sum(1 for a, b in itertools.pairwise(counts) if a != b)
    return RunPlan(
        replica_hours=billed_sum * tick_seconds / 3600.0,
        slo_violation_minutes=unavoidable * tick_seconds / 60.0,
        scale_events=events,
        billed=_merged(counts, [*bounds[1:], ticks], bounds),
        ready=_merged(levels, starts[1:], starts[:-1]),
    )


def _merged(values: Sequence[int], ends: Sequence[int], firsts: Sequence[int]) -> runlengths.Runs:
    out_values: list[float] = []
    out_lengths: list[int] = []
    for value, first, end in zip(values, firsts, ends, strict=True):
        if out_values and out_values[-1] == value:
            out_lengths[-1] += end - first
        else:
            out_values.append(value)  # an int: the counts stay integers, as plan's are
            out_lengths.append(end - first)
    return runlengths.Runs(tuple(out_values), tuple(out_lengths))


def backlog_runs(
    arrivals: runlengths.Runs, ready: runlengths.Runs, capacity_per_tick: float
) -> runlengths.Runs:
    """`backlog` on runs: a segment that starts with no queue and whose arrivals fit stays at zero whole;
    the others are stepped tick by tick (a queue only builds beyond maxReplicas)."""
    bounds, values = runlengths.segments(arrivals, ready)
    out = runlengths.Builder()
    queue = 0.0
    for first, end, (work, count) in zip(bounds, [*bounds[1:], arrivals.ticks], values, strict=True):
        k = first
        while k < end and not (queue == 0.0 and work - count * capacity_per_tick <= 0):
            out.append(queue)
            queue = max(0.0, queue + work - count * capacity_per_tick)
            k += 1
        out.repeat(queue, end - k)  # queue is 0 here and stays 0 (max(0, 0 + w - c) = 0 when w <= c)
    return out.runs()
