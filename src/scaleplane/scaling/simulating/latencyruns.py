"""`measure_runs`: the latency SLO of `latencies.measure` on run-length series (simulating.runlengths).

Only a tick that starts with a queue or receives more than it serves can make work wait (the argument
in `latencies.measure`), and only a window holding late work can violate the objective. So the ticks
evaluated are those of segments (where arrivals, capacity and queue are all constant) with a queue or an
overload, and the windows summed are those that hold them: a ten-year quiet span costs nothing but the
cumulative capacity, which is summed tick by tick in numpy chunks (sequential, as np.cumsum adds, so
C(t) is the same float the per-tick measure reads).

Equal to `latencies.measure` on the expanded series: the violated windows and minutes exactly; the late
work fraction to float rounding (its two totals are summed per run here, pairwise over ticks there).
"""

from __future__ import annotations

import bisect
import math

import numpy as np
from numpy.typing import NDArray

from scaleplane.scaling.simulating import latencies, runlengths

CHUNK = 1 << 20  # ticks of capacity summed per numpy call


def measure_runs(
    arrivals: runlengths.Runs,
    capacity: runlengths.Runs,
    backlog_in: runlengths.Runs,
    *,
    tick_seconds: float,
    objective: latencies.LatencyObjective,
    queueing: bool,
) -> latencies.Measured:
    ticks = arrivals.ticks
    if ticks == 0:
        return latencies.Measured(0.0, 0.0, 0, 0)
    bounds, values = runlengths.segments(arrivals, capacity, backlog_in)
    ends = [*bounds[1:], ticks]
    late: dict[int, float] = {}  # tick -> its late work, for the ticks that have any
    if queueing:
        rows_list = [
            k
            for first, end, (a, c, q) in zip(bounds, ends, values, strict=True)
            if not (q <= 0 and a <= c)  # NaN compares False: such a tick is kept, as measure keeps it
            for k in range(first, end)
        ]
        if rows_list:
            late = _late_queued(rows_list, bounds, values, capacity, tick_seconds, objective)
    else:
        for first, end, (a, c, _) in zip(bounds, ends, values, strict=True):
            dropped = max(0.0, a - c)
            if dropped > c * latencies.EPSILON + latencies.EPSILON:
                late.update(dict.fromkeys(range(first, end), dropped))
    per = latencies.window_ticks(objective, tick_seconds)
    windows = math.ceil(ticks / per)
    violated = 0
    for w in sorted({k // per for k, v in late.items() if v > 0}):
        span = range(w * per, (w + 1) * per)
        work_row = np.array([_value_at(bounds, values, k, 0) if k < ticks else 0.0 for k in span])
        late_row = np.array([late.get(k, 0.0) for k in span])
        work, late_work = float(work_row.sum()), float(late_row.sum())
        allowed = (1 - objective.quantile) * work
        if work > 0 and late_work > allowed * (1 + latencies.EPSILON) + latencies.EPSILON:
            violated += 1
    total = float(sum(a * (end - first) for first, end, (a, _, _) in zip(bounds, ends, values, strict=True)))
    return latencies.Measured(
        violation_minutes=violated * per * tick_seconds / 60.0,
        late_work_fraction=math.fsum(late.values()) / total if total > 0 else 0.0,
        violated_windows=violated,
        windows=windows,
    )


def _value_at(bounds: list[int], values: list[tuple[float, ...]], k: int, which: int) -> float:
    return values[bisect.bisect_right(bounds, k) - 1][which]


def _late_queued(
    rows_list: list[int],
    bounds: list[int],
    values: list[tuple[float, ...]],
    capacity: runlengths.Runs,
    tick_seconds: float,
    objective: latencies.LatencyObjective,
) -> dict[int, float]:
    """measure's queueing branch on the given rows, with C read at the ticks it needs."""
    rows = np.asarray(rows_list, dtype=np.int64)
    row_values = np.asarray([values[bisect.bisect_right(bounds, k) - 1] for k in rows_list], dtype=np.float64)
    a, c, q = row_values[:, 0], row_values[:, 1], row_values[:, 2]
    fractions = (np.arange(latencies.SUBSTEPS) + 0.5) / latencies.SUBSTEPS
    ahead = np.maximum(0.0, q[:, None] + (a - c)[:, None] * fractions[None, :])
    at = (rows[:, None] + fractions[None, :]) * tick_seconds
    later = at + objective.wait_budget_seconds
    last = capacity.ticks - 1
    k_at = np.minimum((at // tick_seconds).astype(np.int64), last)
    k_later = np.minimum((later // tick_seconds).astype(np.int64), last)
    needed = np.unique(np.concatenate((k_at.ravel(), k_at.ravel() + 1, k_later.ravel(), k_later.ravel() + 1)))
    starts = _prefix_sums(capacity, needed)

    def cumulative(k: NDArray[np.int64], t: NDArray[np.float64]) -> NDArray[np.float64]:
        """latencies._cumulative, reading C at boundaries k and k + 1 only."""
        here = starts[np.searchsorted(needed, k)]
        rate = starts[np.searchsorted(needed, k + 1)] - here  # np.diff(starts)[k], the same subtraction
        return np.asarray(here + rate * (t - k * tick_seconds) / tick_seconds, dtype=np.float64)

    served_within = cumulative(k_later, later) - cumulative(k_at, at)
    late_mask = ahead > served_within * (1 + latencies.EPSILON) + latencies.EPSILON
    late = late_mask.sum(axis=1) * (a / latencies.SUBSTEPS)
    return {int(k): float(v) for k, v in zip(rows.tolist(), late.tolist(), strict=True)}


def _prefix_sums(capacity: runlengths.Runs, needed: NDArray[np.int64]) -> NDArray[np.float64]:
    """[0, c0, c0 + c1, ...] at the tick boundaries `needed` (sorted), summed in order as np.cumsum does."""
    out = np.empty(len(needed), dtype=np.float64)
    wanted = needed.tolist()
    i = 0
    while i < len(wanted) and wanted[i] == 0:
        out[i] = 0.0
        i += 1
    total, at = 0.0, 0  # total = C at tick boundary `at`
    for value, length in zip(capacity.values, capacity.lengths, strict=True):
        end = at + length
        while at < end and i < len(wanted):
            upto = min(end, at + CHUNK)
            chunk = np.full(upto - at + 1, value)
            chunk[0] = total
            sums = np.add.accumulate(chunk)  # sums[j] = C at boundary at + j
            while i < len(wanted) and wanted[i] <= upto:
                out[i] = sums[wanted[i] - at]
                i += 1
            total, at = float(sums[-1]), upto
        if i >= len(wanted):
            break
        if at < end:  # nothing more wanted: no need to sum the rest
            break
    return out
