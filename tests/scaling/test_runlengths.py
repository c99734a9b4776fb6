"""Demand as runs (simulating.runlengths): the oracle and the latency SLO on runs equal their per-tick forms.

Random piecewise-constant series with long constant runs, expanded tick by tick for the per-tick path.
"""

from __future__ import annotations

import math
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scaleplane.scaling.simulating import frontiers, latencies, latencyruns, oracle, runlengths, simulation

EXAMPLES = int(os.environ.get("SCALEPLANE_HYPOTHESIS_EXAMPLES", "60"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
LEVELS = st.sampled_from([0.0, 0.25, 1.0, 3.75, 5.0, 7.5]) | st.floats(0, 10, allow_nan=False)
LENGTHS = st.sampled_from([1, 1, 2, 3, 5, 8, 40, 300])
series = st.lists(st.tuples(LEVELS, LENGTHS), min_size=1, max_size=8).map(
    lambda runs: [v for v, n in runs for _ in range(n)]
)


def test_runs_round_trip_and_refuse_bad_lengths() -> None:
    runs = runlengths.Runs.of([0.0, 0.0, 2.0, 2.0, 2.0, 0.0])
    assert (runs.values, runs.lengths, runs.ticks, runs.starts()) == (
        (0.0, 2.0, 0.0),
        (2, 3, 1),
        6,
        [0, 2, 5],
    )
    assert runs.expanded() == [0.0, 0.0, 2.0, 2.0, 2.0, 0.0]
    assert runlengths.Runs.of([]).ticks == 0
    with pytest.raises(ValueError, match="length > 0"):
        runlengths.Runs((1.0,), (0,))


@SETTINGS
@given(
    demand=series,
    capacity=st.sampled_from([0.25, 0.5, 1.0]),
    startup=st.sampled_from([0, 1, 2, 4, 50]),
    low=st.integers(0, 2),
    high=st.sampled_from([3, 10, 1000]),
)
def test_the_oracle_on_runs_is_the_oracle_tick_by_tick(
    demand: list[float], capacity: float, startup: int, low: int, high: int
) -> None:
    bounds = {
        "capacity_per_replica": capacity,
        "startup_ticks": startup,
        "tick_seconds": 15.0,
        "min_replicas": low,
        "max_replicas": high,
    }
    ticked = oracle.plan(demand, **bounds)  # type: ignore[arg-type]
    ran = oracle.plan_runs(runlengths.Runs.of(demand), **bounds)  # type: ignore[arg-type]
    assert ran.replica_hours == ticked.replica_hours
    assert ran.slo_violation_minutes == ticked.slo_violation_minutes
    assert ran.scale_events == ticked.scale_events
    assert ran.billed.expanded() == list(ticked.billed)
    assert ran.ready.expanded() == list(ticked.ready)


@SETTINGS
@given(
    demand=series,
    held=st.lists(st.tuples(st.sampled_from([0, 1, 2, 5, 9]), LENGTHS), min_size=1, max_size=8),
    tick=st.sampled_from([10.0, 15.0, 60.0]),
    queueing=st.booleans(),
    slo=st.sampled_from(
        [latencies.P95_UNDER_100MS, latencies.LatencyObjective(latency_seconds=20.0, window_seconds=120.0)]
    ),
)
def test_the_latency_slo_on_runs_is_the_latency_slo_tick_by_tick(
    demand: list[float],
    held: list[tuple[int, int]],
    tick: float,
    queueing: bool,
    slo: latencies.LatencyObjective,
) -> None:
    counts = [r for r, n in held for _ in range(n)]
    ready = (counts * (len(demand) // len(counts) + 1))[: len(demand)]  # any ready counts over the ticks
    per_tick = 0.25 * tick
    arrivals = [d * tick for d in demand]
    capacity = [r * per_tick for r in ready]
    queue = oracle.backlog(arrivals, ready, per_tick) if queueing else [0.0] * len(demand)
    ticked = latencies.measure(arrivals, capacity, queue, tick_seconds=tick, objective=slo, queueing=queueing)
    ran = latencyruns.measure_runs(
        runlengths.Runs.of(arrivals),
        runlengths.Runs.of(capacity),
        runlengths.Runs.of(queue),
        tick_seconds=tick,
        objective=slo,
        queueing=queueing,
    )
    assert (ran.violation_minutes, ran.violated_windows, ran.windows) == (
        ticked.violation_minutes,
        ticked.violated_windows,
        ticked.windows,
    )
    assert math.isclose(ran.late_work_fraction, ticked.late_work_fraction, rel_tol=1e-9, abs_tol=1e-15)


@SETTINGS
@given(
    demand=series,
    family=st.sampled_from(frontiers.FAMILIES),
    target=st.sampled_from([0.5, 0.8]),
    low=st.integers(0, 1),
    high=st.sampled_from([5, 100]),
    queueing=st.booleans(),
)
def test_simulating_runs_is_simulating_tick_by_tick(
    demand: list[float], family: str, target: float, low: int, high: int, queueing: bool
) -> None:
    model = simulation.TargetModel(queueing=queueing)
    preset = frontiers.preset_for(family, model, target, min_replicas=low, max_replicas=high)
    ticked = simulation.simulate(preset.spec, demand, model=model, sync_seconds=preset.sync_seconds)
    ran = simulation.simulate(
        preset.spec, runlengths.Runs.of(demand), model=model, sync_seconds=preset.sync_seconds
    )
    # totals summed per run agree to rounding, so compare them unrounded: the summary rounds to 6
    # places, and a value on a rounding boundary (3/128) would flip its last digit
    fractions = ("late_work_fraction", "overload_work_fraction")
    for key in fractions:
        assert math.isclose(getattr(ran, key), getattr(ticked, key), rel_tol=1e-9, abs_tol=1e-12), key
    for key, value in ticked.summary().items():
        if key not in fractions:
            assert ran.summary()[key] == value, key
    assert ran.replica_hours == ticked.replica_hours
    for field in ("at", "demand", "replicas", "ready", "backlog"):
        assert list(getattr(ran.timeline, field)) == list(getattr(ticked.timeline, field)), field
    assert list(ran.oracle.billed) == list(ticked.oracle.billed)
    assert list(ran.oracle.ready) == list(ticked.oracle.ready)
