"""The loop's series from one policy's tick: the forecast gauge follows the engine's forecast."""

from __future__ import annotations

from prometheus_client import generate_latest

from scaleplane.control import meters, policies
from scaleplane.scaling import decisions


def _outcome(predicted: float | None) -> policies.TickOutcome:
    rec = decisions.MetricRecommendation("backlog", 40.0, 10.0, "AverageValue", 4, predicted=predicted)
    decision = decisions.Decision(0.0, 2, 4, 4, "scale_up", "up", "backlog", (), (rec,))
    return policies.TickOutcome(
        policies.PolicyKey("team", "workers"), decision, decisions.ScalingState(), None, False
    )


def test_the_forecast_is_published_while_the_engine_forecasts_and_gone_when_it_does_not() -> None:
    loop = meters.LoopMeters()
    loop.record(_outcome(55.5), [])
    page = generate_latest(loop.registry).decode()
    assert 'scaleplane_metric_forecast{metric="backlog",namespace="team",policy="workers"} 55.5' in page
    loop.record(_outcome(None), [])  # too little history this tick: no stale forecast line
    assert "scaleplane_metric_forecast{" not in generate_latest(loop.registry).decode()
