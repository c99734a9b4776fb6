"""The latency SLO on cases worked out by hand: FIFO waits, the per-minute quantile, dropped work."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scaleplane.scaling.simulating import latencies

P95_100MS = latencies.LatencyObjective()  # p95 under 100 ms over each minute, 50 ms of service


def measure(
    arrivals: list[float], capacity: list[float], backlog: list[float], **kw: object
) -> latencies.Measured:
    options: dict[str, object] = {"tick_seconds": 15.0, "objective": P95_100MS, "queueing": True} | kw
    return latencies.measure(arrivals, capacity, backlog, **options)  # type: ignore[arg-type]


def test_work_within_capacity_never_waits() -> None:
    result = measure([10, 30, 0, 29.9], [30, 30, 30, 30], [0, 0, 0, 0])
    assert result.violation_minutes == 0 and result.late_work_fraction == 0
    assert result.windows == 1


def test_a_short_tick_makes_the_work_queued_behind_it_late() -> None:
    # 1 % short over one tick: 2.02 units/s arrive, 2 are served, the queue grows 0.02 unit a second;
    # the wait budget (100 - 50 ms) serves 2 x 0.05 = 0.1 unit, so work arriving after s = 5 s is late:
    # 2/3 of the minute's work, far above 5 %.
    result = measure([30.3, 0, 0, 0], [30, 30, 30, 30], [0, 0.3, 0, 0])
    assert result.late_work_fraction == pytest.approx(10 / 15, abs=1 / 15)
    assert result.violation_minutes == 1.0


def test_a_small_late_share_stays_within_the_quantile() -> None:
    # the same short tick in a minute with 20x more work elsewhere: 10 late units of 30.3 + 3 * 300
    result = measure([30.3, 300, 300, 300], [30, 600, 600, 600], [0, 0.3, 0, 0])
    assert 0 < result.late_work_fraction < 0.05
    assert result.violation_minutes == 0


def test_the_queue_drains_on_later_capacity_and_minutes_are_counted_per_window() -> None:
    # minute 0: 60 units arrive on 0 capacity, all wait; minute 1 has capacity: its own work (none) is
    # not late, so only minute 0 violates
    result = measure(
        [60, 0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 600, 600, 600, 600], [0, 60, 60, 60, 60, 0, 0, 0]
    )
    assert result.violated_windows == 1 and result.windows == 2
    assert result.violation_minutes == 1.0
    assert result.late_work_fraction == 1.0


def test_without_a_queue_dropped_work_is_late() -> None:
    result = measure([40, 30, 30, 30], [30, 30, 30, 30], [0, 0, 0, 0], queueing=False)
    assert result.late_work_fraction == pytest.approx(10 / 130)
    assert result.violation_minutes == 1.0


def test_an_objective_below_the_service_time_is_refused() -> None:
    with pytest.raises(ValueError, match="above the service time"):
        latencies.LatencyObjective(latency_seconds=0.05, service_seconds=0.1)


@settings(max_examples=60, deadline=None)
@given(
    arrivals=st.lists(st.floats(0, 100), min_size=1, max_size=30),
    capacity=st.floats(0, 100),
)
def test_more_capacity_never_adds_late_work(arrivals: list[float], capacity: float) -> None:
    def run(per_tick: float) -> latencies.Measured:
        queue, carried = 0.0, []
        for work in arrivals:
            carried.append(queue)
            queue = max(0.0, queue + work - per_tick)
        return measure(arrivals, [per_tick] * len(arrivals), carried)

    less, more = run(capacity), run(capacity * 1.5 + 1)
    assert more.late_work_fraction <= less.late_work_fraction + 1e-9
    assert more.violation_minutes <= less.violation_minutes


def _every_row(arrivals: list[float], capacity: list[float], backlog: list[float]) -> float:
    """The late work with every tick evaluated at every instant (what `measure` skips, it must not miss)."""
    a, c, q = (np.asarray(x, dtype=np.float64) for x in (arrivals, capacity, backlog))
    fractions = (np.arange(latencies.SUBSTEPS) + 0.5) / latencies.SUBSTEPS
    ahead = np.maximum(0.0, q[:, None] + (a - c)[:, None] * fractions[None, :])
    starts = np.concatenate(([0.0], np.cumsum(c)))
    at = (np.arange(len(a))[:, None] + fractions[None, :]) * 15.0
    served = latencies._cumulative(starts, at + P95_100MS.wait_budget_seconds, 15.0)
    served = served - latencies._cumulative(starts, at, 15.0)
    late = ahead > served * (1 + latencies.EPSILON) + latencies.EPSILON
    return float((late.sum(axis=1) * (a / latencies.SUBSTEPS)).sum())


@settings(max_examples=60, deadline=None)
@given(
    ticks=st.lists(
        st.tuples(st.sampled_from([0.0, 5.0, 29.0, 30.0, 31.0, 60.0]), st.sampled_from([0.0, 30.0, 45.0])),
        min_size=1,
        max_size=40,
    )
)
def test_skipping_the_ticks_nobody_waits_in_changes_nothing(ticks: list[tuple[float, float]]) -> None:
    arrivals, capacity = [a for a, _ in ticks], [c for _, c in ticks]
    queue, backlog = 0.0, []
    for a, c in ticks:
        backlog.append(queue)
        queue = max(0.0, queue + a - c)
    result = measure(arrivals, capacity, backlog)
    total = sum(arrivals)
    assert result.late_work_fraction == (_every_row(arrivals, capacity, backlog) / total if total else 0.0)
