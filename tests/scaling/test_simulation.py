"""The simulator on small cases worked out by hand, what the policy observes, and the real trace."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scaleplane.scaling import decisions, specs
from scaleplane.scaling.simulating import fleets, presets, simulation, traces

REPO = Path(__file__).resolve().parents[2]
ONE_REQUEST = simulation.TargetModel(
    capacity_per_replica=1.0, startup_seconds=0.0, rate_window_seconds=15.0, queueing=False
)


def policy(low: int, high: int, **extra: object) -> specs.ScalingPolicySpec:
    return specs.parse_policy(
        {
            "targetRef": {"name": "svc"},
            "minReplicas": low,
            "maxReplicas": high,
            "metrics": [{"name": "demand", "query": "q", "target": {"type": "AverageValue", "value": 1}}],
            **extra,
        }
    )


def test_fixed_replicas_count_hours_violations_and_overload_exactly() -> None:
    # min = max = 2, capacity 1/s: only tick 2 (3/s > 2/s) is short; 1 of 6 units/s-ticks overflow.
    outcome = simulation.simulate(policy(2, 2), [1, 1, 3, 1], model=ONE_REQUEST)
    assert outcome.timeline.replicas == (2, 2, 2, 2)
    assert outcome.replica_hours == pytest.approx(2 * 4 * 15 / 3600)
    assert outcome.shortfall_minutes == 0.25
    # without a queue the 15 units beyond capacity are dropped: 15 of 90 late, above 5 % of the minute
    assert outcome.late_work_fraction == pytest.approx(15 / 90)
    assert outcome.slo_violation_minutes == 1.0
    assert outcome.overload_work_fraction == pytest.approx(1 / 6)
    assert outcome.scale_events == 0


def test_queueing_carries_unserved_work_to_the_next_tick() -> None:
    model = simulation.TargetModel(capacity_per_replica=1.0, startup_seconds=0.0, queueing=True)
    # 1 s ticks, one replica: tick 0 gets 2 units (1 waits, violated), tick 1 serves the waiting unit.
    outcome = simulation.simulate(policy(1, 1), [2, 0, 0], model=model, tick_seconds=1.0)
    assert outcome.timeline.backlog == (1.0, 0.0, 0.0)
    assert outcome.shortfall_minutes == pytest.approx(1 / 60)
    # the backlog keeps a tick violated even when its own arrivals fit
    outcome = simulation.simulate(policy(1, 1), [3, 1, 0], model=model, tick_seconds=1.0)
    assert outcome.timeline.backlog == (2.0, 2.0, 1.0)
    assert outcome.shortfall_minutes == pytest.approx(3 / 60)


def test_startup_delay_leaves_capacity_short_until_new_replicas_are_ready() -> None:
    # demand steps 1 -> 4 at tick 2; the metric (rate over the last 15 s tick) sees it at tick 3, the
    # HPA arithmetic asks ceil(4 / 1) = 4, ready 30 s (2 ticks) later at tick 5: ticks 2, 3, 4 violated.
    model = simulation.TargetModel(
        capacity_per_replica=1.0, startup_seconds=30.0, rate_window_seconds=15.0, queueing=False
    )
    outcome = simulation.simulate(policy(1, 10), [1, 1, 4, 4, 4, 4], model=model)
    assert outcome.timeline.replicas == (1, 1, 1, 4, 4, 4)
    assert outcome.timeline.ready == (1, 1, 1, 1, 1, 4)
    assert outcome.shortfall_minutes == 0.75
    assert outcome.replica_hours == pytest.approx(15 * 15 / 3600)
    assert outcome.scale_events == 1
    # the oracle starts 3 replicas 2 ticks ahead: 1 * 6 + 3 * (2 + 4) = 24 replica-ticks
    assert outcome.oracle.replica_hours == pytest.approx(24 * 15 / 3600)


def test_scale_from_zero_wakes_on_the_first_demand() -> None:
    outcome = simulation.simulate(policy(0, 10), [0, 0, 0, 0, 2, 2, 2, 2], model=ONE_REQUEST)
    assert outcome.timeline.replicas[:5] == (0, 0, 0, 0, 0)  # idle at zero costs nothing
    assert outcome.timeline.replicas[-1] == 2
    assert outcome.reasons.get("activated") == 1
    assert outcome.slo_violation_minutes > 0  # the cold start is paid for


def test_the_policy_observes_the_rate_over_the_window_and_the_queue() -> None:
    seen: list[decisions.Observation] = []

    def hold(
        spec: specs.ScalingPolicySpec,
        observed: decisions.Observation,
        state: decisions.ScalingState,
        now: float,
    ) -> tuple[decisions.Decision, decisions.ScalingState]:
        seen.append(observed)
        current = observed.current_replicas
        return decisions.Decision(now, current, current, current, "held", ""), state

    spec = specs.parse_policy(
        {
            "targetRef": {"name": "svc"},
            "maxReplicas": 5,
            "metrics": [
                {"name": "rate", "query": "sum(rate(x[30s]))", "target": {"value": 1}},
                {"name": "rate_default", "query": "sum(x)", "target": {"value": 1}},
                {"name": "queue_depth", "query": "sum(q)", "target": {"value": 1}},
            ],
        }
    )
    model = simulation.TargetModel(capacity_per_replica=1.0, queueing=True, rate_window_seconds=15.0)
    simulation.simulate(
        spec, [1, 3, 5, 1, 0, 0], model=model, tick_seconds=15.0, sync_seconds=30.0, start=1000.0, decide=hold
    )
    assert [o.at for o in seen] == [1000.0, 1030.0, 1060.0]  # every 30 s sync on 15 s ticks
    # rate over the query's 30 s before each sync (before the start: the first tick's rate)
    assert [o.sample("rate").value for o in seen] == [1.0, 2.0, 3.0]  # type: ignore[union-attr]
    # a query without a range reads the model's rate window (15 s: the last tick)
    assert [o.sample("rate_default").value for o in seen] == [1.0, 3.0, 1.0]  # type: ignore[union-attr]
    # one replica serves 15 units a tick; arrivals 15, 45, 75, 15 units: the queue at the start of
    # ticks 0, 2, 4 is 0, then 45 - 15 = 30, then 30 + 75 - 15 + 15 - 15 = 90
    assert [o.sample("queue_depth").value for o in seen] == [0.0, 30.0, 90.0]  # type: ignore[union-attr]


def test_unknown_signals_are_refused_by_name() -> None:
    with pytest.raises(ValueError, match="demand=cpu"):
        simulation.simulate(policy(1, 2), [1, 1], model=ONE_REQUEST, signals={"demand": "cpu"})


@settings(max_examples=60, deadline=None)
@given(
    demand=st.lists(st.floats(0, 12), min_size=2, max_size=40),
    startup=st.sampled_from([0.0, 15.0, 45.0]),
    low=st.integers(0, 2),
)
def test_a_run_without_violations_never_beats_the_oracle(
    demand: list[float], startup: float, low: int
) -> None:
    model = simulation.TargetModel(capacity_per_replica=1.0, startup_seconds=startup)
    outcome = simulation.simulate(policy(low, 20), demand, model=model)
    assert all(low <= r <= 20 for r in outcome.timeline.replicas)
    if outcome.shortfall_minutes == 0:
        assert outcome.slo_violation_minutes == 0  # no work waits unless some tick was short
        assert outcome.replica_hours >= outcome.oracle.replica_hours - 1e-9


def test_the_real_trace_runs_all_four_presets_and_respects_the_oracle() -> None:
    path = REPO / "traces" / "azure-llm-conv-2023.csv"
    trace = traces.parse_trace(path.read_text().splitlines(), source=path.name, bucket_seconds=15)
    demand = traces.resample(trace, 15)
    model = simulation.TargetModel()
    outcomes = {
        p.name: simulation.simulate(p.spec, demand, model=model, sync_seconds=p.sync_seconds, name=p.name)
        for p in presets.standard_presets(model)
    }
    assert set(outcomes) == {"hpa", "keda", "recommended", "forecast"}
    for outcome in outcomes.values():
        assert 1.0 < outcome.replica_hours / outcome.oracle.replica_hours < 2.0
        assert outcome.oracle.slo_violation_minutes == 0
    # the pick of bench/tune_recommended.py (made on the synthetic traces) holds on the real one
    assert outcomes["recommended"].replica_hours < outcomes["hpa"].replica_hours
    assert outcomes["recommended"].slo_violation_minutes <= outcomes["hpa"].slo_violation_minutes


def test_dry_run_policies_are_simulated_as_live_and_paused_ones_never_scale() -> None:
    demand = [1, 1, 4, 4, 4, 4]
    live = simulation.simulate(policy(1, 10), demand, model=ONE_REQUEST)
    dry = simulation.simulate(policy(1, 10, dryRun=True), demand, model=ONE_REQUEST)
    paused = simulation.simulate(policy(1, 10, paused=True), demand, model=ONE_REQUEST)
    assert dry.timeline.replicas == live.timeline.replicas != paused.timeline.replicas
    assert set(paused.timeline.replicas) == {1}


def test_the_fleet_removes_starting_replicas_first_and_the_latest_ready_before_earlier_ones() -> None:
    fleet = fleets.Fleet(ready=3)
    fleet.resize(5, ready_tick=4)  # 2 starting, ready at tick 4
    fleet.resize(8, ready_tick=6)  # 3 more, ready at tick 6
    fleet.advance(4)
    assert (fleet.ready, fleet.billed) == (5, 8)
    fleet.resize(4, ready_tick=7)  # the 3 still starting go first, then one ready replica
    assert (fleet.ready, fleet.billed) == (4, 4) and not fleet.starting
    fleet.advance(100)
    assert fleet.ready == 4


def test_a_hundred_million_replica_bound_costs_what_a_small_one_does() -> None:
    # batches of start-ups and the stack-based oracle: nothing is per replica (the old simulator kept one
    # list entry per replica and walked every level of the oracle, minutes for this case)
    model = simulation.TargetModel(capacity_per_replica=1.0, startup_seconds=30.0)
    demand = [1e7, 2e7, 3e7, 3e7, 1e7, 1e7] * 5
    outcome = simulation.simulate(policy(1, 100_000_000), demand, model=model)
    assert outcome.peak_replicas > 10_000_000  # what the 60 s rate() reads of the swings
    assert outcome.oracle.replica_hours > 0 and max(outcome.oracle.ready) == 30_000_000


def test_a_cpu_utilization_policy_holds_the_modelled_pods_at_its_target() -> None:
    """Resource metrics on a trace: each ready pod is busy (work / ready capacity) of its request, so a
    steady 3 units/s on pods serving 0.25 each at a 60 % target settles at ceil(3 / 0.25 / 0.6) = 20,
    and a pod saturated at 100 % grows the count by at most 1 / 0.6 per sync."""
    spec = specs.parse_policy(
        {
            "targetRef": {"name": "web"},
            "maxReplicas": 100,
            "metrics": [
                {
                    "name": "cpu",
                    "type": "Resource",
                    "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 60}},
                }
            ],
        }
    )
    model = simulation.TargetModel(capacity_per_replica=0.25, startup_seconds=15)
    steady = simulation.simulate(spec, [3.0] * 200, model=model)
    assert steady.timeline.replicas[-1] == 20
    burst = simulation.simulate(spec, [0.25] * 4 + [25.0] * 40, model=model)
    grown = burst.timeline.replicas
    assert all(b <= -(-a * 5 // 3) for a, b in itertools.pairwise(grown) if b > a)
