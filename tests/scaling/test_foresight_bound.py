"""bench/frontier_foresight.py's told engine: readings raised to the trace's coming peak, never lowered."""

from __future__ import annotations

from bench import frontier_foresight
from scaleplane.scaling import decisions, specs
from scaleplane.scaling.simulating import presets, simulation


def _spec() -> specs.ScalingPolicySpec:
    return presets.recommended(simulation.TargetModel())


def test_the_told_engine_sizes_for_the_peak_of_the_coming_ticks() -> None:
    demand = [1.0, 1.0, 1.0, 1.0, 9.0, 1.0]  # units/s per 15 s tick; a replica holds 0.25 x 0.8 = 0.2
    told = frontier_foresight.Told(demand, start=1000.0, ahead=4)
    seen = decisions.Observation(1000.0, 5, 5, (decisions.MetricSample("demand", 1.0),))
    decision, _ = told(_spec(), seen, decisions.ScalingState(), 1000.0)
    assert decision.recommendations[0].value == 9.0  # the spike 4 ticks ahead
    later, _ = frontier_foresight.Told(demand, 1000.0, ahead=0)(
        _spec(), seen, decisions.ScalingState(), 1000.0
    )
    assert later.recommendations[0].value == 1.0  # told only the present


def test_a_reading_above_the_coming_peak_and_a_failed_one_are_kept() -> None:
    told = frontier_foresight.Told([1.0] * 8, start=0.0, ahead=4)
    seen = decisions.Observation(0.0, 5, 5, (decisions.MetricSample("demand", 3.0),))
    decision, _ = told(_spec(), seen, decisions.ScalingState(), 0.0)
    assert decision.recommendations[0].value == 3.0
    failed = decisions.Observation(0.0, 5, 5, (decisions.MetricSample("demand", None, error="timeout"),))
    decision, _ = told(_spec(), failed, decisions.ScalingState(), 0.0)
    assert decision.recommendations[0].value is None


def test_the_last_15_s_engine_reads_the_tick_before_and_nothing_ahead() -> None:
    demand = [1.0, 6.0, 1.0, 9.0]  # tick 1 is the last 15 s at tick 2; tick 3 is the future
    last = frontier_foresight.Told(demand, start=0.0, ahead=-1, behind=1)
    seen = decisions.Observation(30.0, 5, 5, (decisions.MetricSample("demand", 1.0),))
    decision, _ = last(_spec(), seen, decisions.ScalingState(), 30.0)
    assert decision.recommendations[0].value == 6.0  # tick 1, not tick 2 (1.0) or tick 3 (9.0)
    first = decisions.Observation(0.0, 5, 5, (decisions.MetricSample("demand", 1.0),))
    decision, _ = last(_spec(), first, decisions.ScalingState(), 0.0)
    assert decision.recommendations[0].value == 1.0  # no tick before the trace: the reading as it is
