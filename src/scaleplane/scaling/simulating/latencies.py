"""The latency SLO: how long work waits in the modelled target's FIFO queue, and which minutes break it.

A fluid FIFO model of the target, per tick k of T seconds (docs/simulate.md, "The latency SLO"):

- work arrives evenly over the tick at rate a[k] / T and the ready replicas serve c[k] / T (work units
  per second); with queueing, the work not served waits, first in first out, and q[k] is the queue at the
  tick's start; without queueing, arrivals beyond the capacity are dropped and count as late;
- the queue ahead of work arriving s seconds into tick k is Q = max(0, q[k] + (a[k] - c[k]) s / T);
- that work waits d seconds, the time the servers need to serve Q; since a work-conserving server runs
  at full capacity while its queue is not empty, d > B exactly when C(t + B) - C(t) < Q, where C is the
  cumulative capacity (piecewise linear over ticks, the last tick's capacity after the trace);
- its latency is d + serviceSeconds; it is late when that exceeds `latencySeconds`, i.e. d > B with
  B = latencySeconds - serviceSeconds;
- a window of `windowSeconds` (a whole number of ticks, from the trace's start) violates the SLO when the
  late share of the work that arrived in it is above 1 - quantile (p95 under the objective means at most
  5 % of the work is late). Windows with no work do not violate it.

Each tick is evaluated at `SUBSTEPS` evenly spaced instants (their midpoints), so the late share is exact
to 1 / SUBSTEPS of a tick's work. The quantile is over work: with one work unit per request it is the
requests' quantile. Cost: O(ticks) numpy operations plus O(SUBSTEPS) per tick that starts with a queue
or receives more than it serves (only those can make work wait), nothing per replica.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

SUBSTEPS = 15  # 1 s resolution on 15 s ticks
EPSILON = 1e-9  # a queue of 1e-12 units left by float rounding is not a wait


@dataclass(frozen=True)
class LatencyObjective:
    """`quantile` of the latency of the work arriving in each `windowSeconds` is under `latencySeconds`."""

    latency_seconds: float = 0.1  # the objective: p95 under 100 ms ...
    quantile: float = 0.95
    window_seconds: float = 60.0  # ... over each minute
    service_seconds: float = 0.05  # the time one unit takes once a replica starts on it (no wait)

    def __post_init__(self) -> None:
        if not self.latency_seconds > self.service_seconds >= 0:
            raise ValueError(
                f"the latency objective ({self.latency_seconds:g} s) must be above the service time "
                f"({self.service_seconds:g} s): otherwise every request is late"
            )
        if not 0 < self.quantile < 1:
            raise ValueError(f"the SLO quantile must be in (0, 1), was {self.quantile!r}")

    @property
    def wait_budget_seconds(self) -> float:
        return self.latency_seconds - self.service_seconds

    def as_dict(self) -> dict[str, Any]:
        return {
            "latency_seconds": self.latency_seconds,
            "quantile": self.quantile,
            "window_seconds": self.window_seconds,
            "service_seconds": self.service_seconds,
        }


P95_UNDER_100MS = LatencyObjective()  # the default objective


@dataclass(frozen=True)
class Measured:
    violation_minutes: float  # windows violating the objective x windowSeconds / 60
    late_work_fraction: float  # late (or dropped) work / all work
    violated_windows: int
    windows: int


def window_ticks(objective: LatencyObjective, tick_seconds: float) -> int:
    return max(1, round(objective.window_seconds / tick_seconds))


def measure(
    arrivals: NDArray[np.float64] | list[float],
    capacity: NDArray[np.float64] | list[float],
    backlog_in: NDArray[np.float64] | list[float],
    *,
    tick_seconds: float,
    objective: LatencyObjective,
    queueing: bool,
) -> Measured:
    """Per tick: work arriving, work the ready replicas can serve, the queue at the tick's start."""
    a = np.asarray(arrivals, dtype=np.float64)
    c = np.asarray(capacity, dtype=np.float64)
    ticks = len(a)
    if ticks == 0:
        return Measured(0.0, 0.0, 0, 0)
    fractions = (np.arange(SUBSTEPS) + 0.5) / SUBSTEPS  # where in the tick each instant sits
    if queueing:
        q = np.asarray(backlog_in, dtype=np.float64)
        # Only a tick that starts with a queue or receives more than it serves can make anyone wait: on
        # the others `ahead` is 0 at every instant, never above what is served (>= 0). The same
        # element-wise arithmetic runs on the rest, so this changes the cost, not one bit of the result.
        rows = np.flatnonzero(~((q <= 0) & (a <= c)))  # NaN compares False: such a row is kept
        ahead = np.maximum(0.0, q[rows, None] + (a - c)[rows, None] * fractions[None, :])
        starts = np.concatenate(([0.0], np.cumsum(c)))  # C at each tick boundary
        budget = objective.wait_budget_seconds
        at = (rows[:, None] + fractions[None, :]) * tick_seconds
        served_within = _cumulative(starts, at + budget, tick_seconds) - _cumulative(starts, at, tick_seconds)
        late_mask = ahead > served_within * (1 + EPSILON) + EPSILON
        late = np.zeros(ticks)
        late[rows] = late_mask.sum(axis=1) * (a[rows] / SUBSTEPS)
    else:
        late = np.maximum(0.0, a - c)  # dropped: never served, later than any objective
        late = np.where(late > c * EPSILON + EPSILON, late, 0.0)
    per = window_ticks(objective, tick_seconds)
    windows = math.ceil(ticks / per)
    padded = windows * per - ticks
    work = np.pad(a, (0, padded)).reshape(windows, per).sum(axis=1)
    late_work = np.pad(late, (0, padded)).reshape(windows, per).sum(axis=1)
    allowed = (1 - objective.quantile) * work
    violated = int(np.count_nonzero((work > 0) & (late_work > allowed * (1 + EPSILON) + EPSILON)))
    total = float(a.sum())
    return Measured(
        violation_minutes=violated * per * tick_seconds / 60.0,
        late_work_fraction=float(late.sum()) / total if total > 0 else 0.0,
        violated_windows=violated,
        windows=windows,
    )


def _cumulative(
    starts: NDArray[np.float64], at: NDArray[np.float64], tick_seconds: float
) -> NDArray[np.float64]:
    """C(at): the capacity from the trace's start to `at`; after the trace, the last tick's rate goes on."""
    k = np.minimum((at // tick_seconds).astype(np.int64), len(starts) - 2)
    rates = np.diff(starts)
    return np.asarray(starts[k] + rates[k] * (at - k * tick_seconds) / tick_seconds, dtype=np.float64)
