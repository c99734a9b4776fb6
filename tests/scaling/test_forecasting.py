"""Forecast mode: the models, and the engine pre-scaling with max(observed, forecast)."""

from __future__ import annotations

import math

import pytest

from scaleplane.scaling import decisions, reasons
from scaleplane.scaling.deciding import engine, forecasting
from scaleplane.scaling.decisions import ScalingState
from tests.support.engine_ticks import observe, policy, run


def test_holt_continues_a_straight_line_exactly() -> None:
    line = [10.0 + 3.0 * i for i in range(20)]
    assert forecasting.holt(line, 5) == pytest.approx(line[-1] + 15.0)


def test_holt_on_a_flat_series_forecasts_the_level() -> None:
    assert forecasting.holt([7.0] * 30, 10) == pytest.approx(7.0)


@pytest.mark.parametrize("model", ["holt", "holt-winters"])
def test_too_little_history_gives_no_forecast(model: str) -> None:
    assert forecasting.forecast(model, [0.0, 15.0], [1.0, 2.0], 60.0) is None


def test_last_model_never_forecasts() -> None:
    assert forecasting.forecast("last", [0.0, 15, 30, 45, 60], [1.0, 2, 3, 4, 5], 60.0) is None


def test_holt_winters_learns_a_repeating_spike() -> None:
    # every 600 s, a spike of 500 at the same phase; after a few seasons the forecast made just before
    # the spike sees it coming, where holt alone cannot
    spec = policy(
        forecast={"model": "holt-winters", "seasonSeconds": 600, "historySeconds": 300, "startupSeconds": 15}
    )
    state = ScalingState()
    before_spike: list[float | None] = []
    for i in range(40 * 8):
        now = i * 15.0
        load = 600.0 if (now % 600) in (300.0, 315.0) else 100.0
        if now % 600 == 270.0:  # two ticks before the spike: horizon 15 s + one tick lands on it
            recs = engine.decide(spec, observe(now, 1, load=load), state, now)[0].recommendations
            before_spike.append(recs[0].forecast_value)
        _, state = engine.decide(spec, observe(now, 1, load=load), state, now)
    assert before_spike[0] is None  # first season: nothing learnt yet
    assert before_spike[-1] is not None and before_spike[-1] > 300.0


def test_a_rising_load_is_met_ahead_of_time() -> None:
    ramp = [100.0 + 40.0 * i for i in range(12)]
    spec = policy(forecast={"model": "holt", "startupSeconds": 60})
    decided: list[decisions.Decision] = []
    with_forecast = run(spec, ramp, start=2, decisions_out=decided)
    without = run(policy(), ramp, start=2)
    assert all(a >= b for a, b in zip(with_forecast, without, strict=True))
    assert with_forecast[-1] > without[-1]
    raised = [d for d in decided if d.reason == reasons.FORECAST or reasons.RULE_FORECAST in d.rules]
    assert raised and raised[-1].recommendations[0].forecast_value is not None
    assert "forecast" in raised[-1].message


def test_the_forecast_never_lowers_a_recommendation() -> None:
    fall = [2000.0 - 150.0 * i for i in range(12)]
    spec = policy(forecast={"model": "holt", "startupSeconds": 120})
    decided: list[decisions.Decision] = []
    run(spec, fall, start=20, decisions_out=decided)
    assert all(d.recommendations[0].forecast_value is None for d in decided)
    assert all(not math.isnan(d.desired) for d in decided)
    # What it forecast is still told (the dashboards plot it against what came), once it has history.
    predicted = [d.recommendations[0].predicted for d in decided]
    assert predicted[0] is None
    assert predicted[-1] is not None and predicted[-1] < decided[-1].recommendations[0].value  # type: ignore[operator]


def test_a_value_metric_is_forecast_as_the_load_it_stands_for() -> None:
    # A utilisation-like Value metric halves when the replicas double: that is not a falling trend. The
    # history keeps value x ready replicas, so a constant load forecasts flat whatever the count did.
    spec = policy(
        metrics=[{"name": "cpu", "query": "avg(cpu)", "target": {"type": "Value", "value": 0.5}}],
        forecast={"model": "holt", "startupSeconds": 60},
    )
    state = ScalingState()
    for i, current in enumerate([2, 2, 2, 4, 4, 4, 8, 8]):
        now = i * 15.0
        decision, state = engine.decide(spec, observe(now, current, cpu=4.0 / current), state, now)
    assert [round(v, 6) for _, _, v in state.history] == [4.0] * 8
    assert decision.recommendations[0].forecast_value is None


def test_a_flat_load_never_trips_the_forecast_on_round_off() -> None:
    # Holt as a dot product returns 1.0000000000000002 for a flat 1.0 at some lengths: that must not ask
    # for a second replica (the property test found a 1 -> 2 -> 1 flap here)
    spec = policy(
        minReplicas=0,
        maxReplicas=2,
        metrics=[{"name": "load", "query": "q", "target": {"type": "Value", "value": 1.0}}],
        behavior={
            "scaleUp": {"tolerance": 0.0},
            "scaleDown": {"stabilizationWindowSeconds": 0, "tolerance": 0.0},
        },
        forecast={"model": "holt", "startupSeconds": 96, "historySeconds": 300},
    )
    assert set(run(spec, [1.0] * 60, start=1)) == {1}
