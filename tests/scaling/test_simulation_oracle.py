"""The oracle on small cases computed by hand (the arithmetic is in each case's comment)."""

from __future__ import annotations

import itertools

import pytest

from scaleplane.scaling.simulating import oracle


def plan(demand: list[float], startup: int, low: int = 0, high: int = 100) -> oracle.OraclePlan:
    # tick of one hour, capacity 1: replica-hours are replica-ticks, demand is the replicas needed
    return oracle.plan(
        demand,
        capacity_per_replica=1.0,
        startup_ticks=startup,
        tick_seconds=3600,
        min_replicas=low,
        max_replicas=high,
    )


def test_constant_demand_costs_exactly_the_need() -> None:
    result = plan([3, 3, 3, 3], startup=2)
    assert result.replica_hours == 12
    assert result.billed == (3, 3, 3, 3)
    assert result.scale_events == 0


def test_a_short_gap_is_bridged_idle_and_a_long_one_restarts() -> None:
    # need 1 1 3 1 1 1 1 3 with L = 2: level 1 runs throughout (8). Levels 2 and 3 are up at ticks 2
    # and 7; each starts 2 ticks before tick 2 (2), serves it (1), and the gap 3..6 (4 ticks > L) is
    # cheaper as a restart at ticks 5, 6 (2) before serving tick 7 (1): 6 per level. 8 + 2 * 6 = 20.
    result = plan([1, 1, 3, 1, 1, 1, 1, 3], startup=2)
    assert result.replica_hours == 20
    assert result.billed == (3, 3, 3, 1, 1, 3, 3, 3)
    assert result.ready == (1, 1, 3, 1, 1, 1, 1, 3)
    assert result.scale_events == 2
    # the same gap with L = 4 is bridged: levels 2, 3 are requested at tick -2 (the ticks before the
    # trace are not billed, as they are not for a policy), start over ticks 0, 1 (2), then stay from
    # tick 2 to 7 (6 ticks): 8 + 2 * (2 + 6) = 24.
    assert plan([1, 1, 3, 1, 1, 1, 1, 3], startup=4).replica_hours == 24


def test_a_startup_longer_than_the_trace_bills_only_the_trace() -> None:
    # L = 100 on 3 ticks: level 2 is requested long before the trace and billed on ticks 0, 1 (starting)
    # and 2 (ready): 1 + 1 + 1 for level 1 and 3 for level 2 = 6, never more than keeping 2 throughout
    result = plan([1, 1, 2], startup=100)
    assert result.replica_hours == 6
    assert result.billed == (2, 2, 2)


def test_no_startup_delay_follows_the_need_exactly() -> None:
    demand = [0.5, 2.2, 0, 4, 1]
    result = plan(demand, startup=0)
    assert result.billed == (1, 3, 0, 4, 1)
    assert result.replica_hours == 9


def test_bounds_raise_the_floor_and_cap_with_unavoidable_violation() -> None:
    result = oracle.plan(
        [0, 5, 20, 5],
        capacity_per_replica=1.0,
        startup_ticks=0,
        tick_seconds=60,
        min_replicas=2,
        max_replicas=8,
    )
    assert result.billed == (2, 5, 8, 5)
    assert result.slo_violation_minutes == 1.0  # tick 2 needs 20 > 8: one 60 s tick lost
    assert result.replica_hours == pytest.approx(20 / 60)


def test_demand_equal_to_capacity_needs_no_extra_replica() -> None:
    assert oracle.needed(0.75, 0.25) == 3
    assert oracle.needed(0.7500001, 0.25) == 4
    assert oracle.needed(0.0, 0.25) == 0


@pytest.mark.parametrize("startup", [0, 1, 2, 3])
def test_oracle_is_the_minimum_over_every_schedule_on_tiny_cases(startup: int) -> None:
    """Brute force: every billed sequence with up to 3 replicas on 5 ticks, simulated replica by replica."""
    need = [1, 0, 2, 0, 1]
    best = min(
        cost
        for schedule in itertools.product(range(4), repeat=len(need))
        if (cost := _feasible_cost(list(schedule), need, startup)) is not None
    )
    assert plan([float(n) for n in need], startup=startup).replica_hours == best


def _feasible_cost(ready: list[int], need: list[int], startup: int) -> int | None:
    """Bill of a ready-count sequence: ready ticks plus, per start ready at tick b, its min(b, L) ticks of
    start-up within the trace (tick 0's replicas start ready)."""
    if any(r < n for r, n in zip(ready, need, strict=True)) or ready[0] != need[0]:
        return None
    starts = sum(max(0, b - a) * min(k + 1, startup) for k, (a, b) in enumerate(itertools.pairwise(ready)))
    return sum(ready) + starts
