"""The status a tick writes: conditions as operator.records.statuses tabulates, times moved only on flips."""

from __future__ import annotations

from scaleplane.control import policies
from scaleplane.operator.records import statuses
from scaleplane.scaling import decisions, specs

SPEC = specs.parse_policy(
    {
        "targetRef": {"name": "worker"},
        "maxReplicas": 5,
        "metrics": [{"name": "q", "query": "q", "target": {"value": 10}}],
    }
)
KEY = policies.PolicyKey("ns", "worker")


def _outcome(
    reason: str,
    rules: tuple[str, ...] = (),
    *,
    desired: int = 3,
    error: str | None = None,
    scaled: bool = True,
    samples: tuple[decisions.MetricSample, ...] = (decisions.MetricSample("q", 25.0),),
) -> policies.TickOutcome:
    decision = decisions.Decision(
        at=100.0,
        current=1,
        desired=desired,
        raw=desired,
        reason=reason,
        message=f"because {reason}",
        rules=rules,
        recommendations=(decisions.MetricRecommendation("q", 25.0, 10.0, "AverageValue", 3),),
    )
    observation = decisions.Observation(100.0, 1, 1, samples)
    return policies.TickOutcome(
        KEY, decision, decisions.ScalingState(consecutive_failures=2), error, scaled, observation
    )


def _conditions(status: dict) -> dict[str, tuple[str, str]]:
    return {c["type"]: (c["status"], c["reason"]) for c in status["conditions"]}


def test_a_plain_scale_up() -> None:
    status = statuses.after_tick(SPEC, _outcome("scale_up"), {}, generation=2, at=100.0)
    assert status["currentReplicas"] == 1 and status["desiredReplicas"] == 3
    assert status["lastScaleTime"] == "1970-01-01T00:01:40Z"
    assert status["lastDecision"]["metrics"][0] == {
        "name": "q",
        "value": 25.0,
        "target": 10.0,
        "targetType": "AverageValue",
        "replicas": 3,
        "forecastValue": None,
        "sizedValue": None,
        "note": "",
    }
    assert status["engineState"]["consecutiveFailures"] == 2
    assert _conditions(status) == {
        "Ready": ("True", "Reconciled"),
        "ScalingActive": ("True", "ValidMetrics"),
        "ScalingLimited": ("False", "WithinLimits"),
        "FallbackActive": ("False", "MetricsHealthy"),
        "StateRestored": ("True", "Fresh"),
    }


def test_the_sized_and_forecast_values_are_in_the_status() -> None:
    raised = decisions.MetricRecommendation(
        "q", 25.0, 10.0, "AverageValue", 4, forecast_value=31.0, sized_value=38.5
    )
    decision = decisions.Decision(
        at=100.0, current=1, desired=4, raw=4, reason="scale_up", message="m", recommendations=(raised,)
    )
    metric = statuses.decision_dict(decision, True)["metrics"][0]
    assert (metric["forecastValue"], metric["sizedValue"]) == (31.0, 38.5)


def test_limits_fallback_and_missing_metrics() -> None:
    limited = statuses.after_tick(SPEC, _outcome("max_replicas", ("max_replicas",)), {}, generation=1, at=1.0)
    assert _conditions(limited)["ScalingLimited"] == ("True", "TooManyReplicas")
    fallback = statuses.after_tick(
        SPEC, _outcome("fallback_replicas", ("fallback",)), {}, generation=1, at=1.0
    )
    assert _conditions(fallback)["FallbackActive"] == ("True", "fallback_replicas")
    missing = statuses.after_tick(
        SPEC, _outcome("metrics_unavailable", scaled=False), {}, generation=1, at=1.0
    )
    assert _conditions(missing)["ScalingActive"] == ("False", "MetricsUnavailable")
    assert missing["lastScaleTime"] is None


def test_a_failed_scale_keeps_the_last_scale_time_and_reports_the_error() -> None:
    previous = {"lastScaleTime": "2026-01-01T00:00:00Z"}
    status = statuses.after_tick(
        SPEC, _outcome("scale_up", error="HTTP 500", scaled=False), previous, generation=1, at=5.0
    )
    assert status["lastScaleTime"] == "2026-01-01T00:00:00Z"
    assert status["error"] == "HTTP 500"
    assert _conditions(status)["Ready"] == ("False", "TargetUnavailable")


def test_an_unreadable_target_keeps_the_last_decision() -> None:
    previous = statuses.after_tick(SPEC, _outcome("scale_up"), {}, generation=1, at=1.0)
    outcome = policies.TickOutcome(
        KEY, None, decisions.ScalingState(), "cannot read Deployment ns/worker: 404", False
    )
    status = statuses.after_tick(SPEC, outcome, previous, generation=1, at=2.0)
    assert status["lastDecision"] == previous["lastDecision"]
    assert _conditions(status)["Ready"] == ("False", "TargetUnavailable")


def test_transition_times_move_only_when_a_condition_flips() -> None:
    first = statuses.after_tick(SPEC, _outcome("scale_up"), {}, generation=1, at=1000.0)
    same = statuses.after_tick(SPEC, _outcome("scale_up"), first, generation=1, at=2000.0)
    flipped = statuses.after_tick(
        SPEC, _outcome("max_replicas", ("max_replicas",)), same, generation=1, at=3000.0
    )
    times = {c["type"]: c["lastTransitionTime"] for c in same["conditions"]}
    assert times["Ready"] == statuses.iso(1000.0)
    later = {c["type"]: c["lastTransitionTime"] for c in flipped["conditions"]}
    assert later["ScalingLimited"] == statuses.iso(3000.0) and later["Ready"] == statuses.iso(1000.0)


def test_invalid_policy_status() -> None:
    status = statuses.invalid("spec.maxReplicas: must be >= 1, was 0", {}, generation=4, at=1.0)
    assert status["observedGeneration"] == 4
    assert _conditions(status)["Ready"] == ("False", "InvalidPolicy")


def test_a_long_outage_under_fallback_says_the_metrics_are_unavailable() -> None:
    """The defect: past the failure threshold the fallback rule decides, and the conditions said
    ScalingActive=True/ValidMetrics although no metric had been read for many ticks."""
    down = (decisions.MetricSample("q", None, "cannot connect to Prometheus"),)
    for reason in ("fallback_replicas", "fallback_hold"):
        outcome = _outcome(reason, ("fallback",), samples=down)
        status = statuses.after_tick(SPEC, outcome, {}, generation=1, at=1.0)
        conditions = _conditions(status)
        assert conditions["ScalingActive"] == ("False", "MetricsUnavailable"), reason
        assert conditions["FallbackActive"] == ("True", reason)
        active = next(c for c in status["conditions"] if c["type"] == "ScalingActive")
        assert active["message"] == "no metric could be read: q"


def test_one_failed_metric_of_two_is_said_so() -> None:
    samples = (decisions.MetricSample("q", 25.0), decisions.MetricSample("lag", None, "HTTP 400"))
    status = statuses.after_tick(SPEC, _outcome("metric_failed", samples=samples), {}, generation=1, at=1.0)
    assert _conditions(status)["ScalingActive"] == ("True", "SomeMetricsFailed")


def test_the_state_restored_condition_carries_what_was_wrong() -> None:
    restored = (False, "MalformedStatus", "status.engineState: does not parse")
    status = statuses.after_tick(SPEC, _outcome("scale_up"), {}, generation=1, at=1.0, restored=restored)
    state = next(c for c in status["conditions"] if c["type"] == "StateRestored")
    assert (state["status"], state["reason"], state["message"]) == ("False", *restored[1:])
