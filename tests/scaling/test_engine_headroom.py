"""Quantile sizing, burst mode and a forecast that knows its error, stepped through simulated time."""

from __future__ import annotations

import json

import pytest

from scaleplane.scaling import decisions, reasons, specs
from scaleplane.scaling.deciding import engine, forecasting
from scaleplane.scaling.decisions import ScalingState
from tests.support.engine_ticks import observe, policy, run

NO_DOWN_WINDOW = {"scaleDown": {"stabilizationWindowSeconds": 0}}


def test_a_flat_load_gets_no_quantile_headroom() -> None:
    sized = run(policy(sizing={"quantile": 0.9}), [400.0] * 10, start=4)
    assert sized == [4] * 10


def test_a_noisy_load_is_sized_for_its_quantile_not_its_mean() -> None:
    # readings alternate 300 / 500 (mean 400, stdev 100): at quantile 0.9 the engine sizes for the latest
    # reading + 1.28 x 100, so a 500 reading asks for ceil(628 / 100) = 7 where the mean asks for 5
    loads = [300.0, 500.0] * 6
    decided: list[decisions.Decision] = []
    sized = run(
        policy(sizing={"quantile": 0.9}, behavior=NO_DOWN_WINDOW), loads, start=4, decisions_out=decided
    )
    plain = run(policy(behavior=NO_DOWN_WINDOW), loads, start=4)
    assert max(plain) == 5 and max(sized) == 7
    assert reasons.RULE_QUANTILE in decided[-1].rules
    assert decided[-1].recommendations[0].sized_value == pytest.approx(500 + 1.2816 * 100, rel=1e-3)


def test_sizing_forgets_readings_older_than_its_window() -> None:
    spec = policy(sizing={"quantile": 0.95, "windowSeconds": 60}, behavior=NO_DOWN_WINDOW)
    counts = run(spec, [100.0, 900.0, 100.0] + [400.0] * 8, start=4)
    assert counts[-1] == 4  # 60 s after the swing, the readings are flat again


def test_a_burst_scales_at_once_and_holds_the_peak_for_its_hold_time() -> None:
    # 4 replicas at target 100: a reading of 800 is 2x what they hold, at the threshold 2
    spec = policy(burst={"threshold": 2.0, "holdSeconds": 60}, behavior=NO_DOWN_WINDOW)
    decided: list[decisions.Decision] = []
    loads = [400.0, 800.0, 200.0, 200.0, 200.0, 200.0, 200.0, 200.0]
    counts = run(spec, loads, start=4, decisions_out=decided)
    plain = run(policy(behavior=NO_DOWN_WINDOW), loads, start=4)
    assert counts[1] == plain[1] == 8
    assert plain[2] == 2  # without burst mode the count follows the drop at once
    assert counts[2:5] == [8, 8, 8]  # held for 60 s after the bursting tick (at 15 s)
    assert reasons.RULE_BURST in decided[2].rules
    assert counts[-1] == 2  # then released


def test_burst_state_survives_a_json_round_trip_and_ignores_garbage() -> None:
    spec = policy(burst={"threshold": 2.0, "holdSeconds": 60}, behavior=NO_DOWN_WINDOW)
    _, state = engine.decide(spec, observe(0.0, 4, load=800.0), ScalingState(), 0.0)
    restored = ScalingState.from_dict(json.loads(json.dumps(state.to_dict())))
    decision, _ = engine.decide(spec, observe(15.0, 8, load=200.0), restored, 15.0)
    assert decision.desired == 8
    broken = ScalingState(extra={"burst": {"until": "soon", "peak": None}})
    decision, _ = engine.decide(spec, observe(15.0, 8, load=200.0), broken, 15.0)
    assert decision.desired == 2


def test_the_forecast_learns_its_error_and_widens_by_its_quantile() -> None:
    # a load alternating 100 / 300 fools a trend model; after a few checked forecasts the RMS error is
    # known and an upper quantile recommends above the point forecast
    base = {"model": "holt", "startupSeconds": 30, "historySeconds": 300}
    point = policy(forecast=base)
    upper = policy(forecast=base | {"errorQuantile": 0.9})
    state_point, state_upper = ScalingState(), ScalingState()
    for i in range(30):
        now = i * 15.0
        load = 300.0 if i % 2 else 100.0
        a, state_point = engine.decide(point, observe(now, 3, load=load), state_point, now)
        b, state_upper = engine.decide(upper, observe(now, 3, load=load), state_upper, now)
    tracked = state_upper.extra["forecastErrors"]["load"]
    assert tracked["n"] >= forecasting.MIN_ERRORS and tracked["mse"] > 0
    assert len(tracked["pending"]) <= 4  # horizon 45 s over 15 s ticks, never more
    assert (b.raw or 0) >= (a.raw or 0)
    assert "forecastErrors" not in state_point.extra


def test_a_low_error_quantile_only_keeps_the_part_of_a_rise_the_forecast_is_sure_of() -> None:
    load = 0.0
    raised: dict[float, int] = {}
    for quantile in (0.1, 0.9):
        spec = policy(forecast={"model": "holt", "startupSeconds": 60, "errorQuantile": quantile})
        state = ScalingState()
        for i in range(40):
            load = 100.0 + 20.0 * i + (60.0 if i % 3 == 0 else 0.0)  # a rising, jittery load
            decision, state = engine.decide(spec, observe(i * 15.0, 10, load=load), state, i * 15.0)
        raised[quantile] = decision.raw or 0
    assert raised[0.1] < raised[0.9]
    assert raised[0.1] >= int(load / 100)  # never below what the observed load asks for


def test_new_fields_are_validated_with_their_range() -> None:
    with pytest.raises(specs.PolicyError, match=r"spec.sizing.quantile"):
        policy(sizing={"quantile": 1.5})
    with pytest.raises(specs.PolicyError, match=r"spec.burst.threshold"):
        policy(burst={"threshold": 1.0})
    with pytest.raises(specs.PolicyError, match=r"spec.forecast.errorQuantile"):
        policy(forecast={"errorQuantile": 1.0})


def test_readings_near_the_float_limit_get_no_headroom_and_no_error() -> None:
    spec = policy(sizing={"quantile": 0.5, "windowSeconds": 30}, maxReplicas=3)
    counts = run(spec, [0.0, 0.0, 1.6e154, 1.7e308, 1.7e308], start=1)
    assert all(1 <= c <= 3 for c in counts)
