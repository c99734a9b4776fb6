"""The spec: HPA defaults, and errors that name the field and the value."""

from __future__ import annotations

import pickle

import pytest

from scaleplane.scaling import specs

MINIMAL = {
    "targetRef": {"kind": "Deployment", "name": "worker"},
    "maxReplicas": 10,
    "metrics": [{"name": "queue", "query": "sum(queue_depth)", "target": {"value": 20}}],
}


def with_(**changes: object) -> dict[str, object]:
    return {**MINIMAL, **changes}


def test_defaults_are_the_hpa_v2_defaults() -> None:
    # kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale/#default-behavior
    policy = specs.parse_policy(MINIMAL)
    up, down = policy.behavior.scale_up, policy.behavior.scale_down
    assert policy.min_replicas == 1
    assert up.stabilization_window_seconds == 0
    assert [(p.type, p.value, p.period_seconds) for p in up.policies] == [
        ("Percent", 100, 15),
        ("Pods", 4, 15),
    ]
    assert up.select_policy == "Max"
    assert down.stabilization_window_seconds == 300
    assert [(p.type, p.value, p.period_seconds) for p in down.policies] == [("Percent", 100, 15)]
    assert up.tolerance == down.tolerance == 0.1
    assert policy.metrics[0].target.type == "AverageValue"


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (
            with_(
                behavior={
                    "scaleDown": {
                        "stabilizationWindowSeconds": 60,
                        "policies": [{"type": "Pods", "value": 1, "periodSeconds": 0}],
                    }
                }
            ),
            "spec.behavior.scaleDown.policies[0].periodSeconds: must be 1..1800, was 0",
        ),
        (with_(minReplicas=5, maxReplicas=2), "spec: maxReplicas must be >= minReplicas, was 2 < 5"),
        (with_(metrics=[]), "spec.metrics: must have at least 1 item(s), was []"),
        (with_(maxReplicas=None), "spec.maxReplicas: must be an integer, was None"),
        (
            with_(metrics=[{"name": "q", "query": "x", "target": {"type": "Bogus", "value": 1}}]),
            "spec.metrics[0].target.type: must be 'Value' or 'AverageValue', was 'Bogus'",
        ),
        (
            with_(replicas=3),
            "spec.replicas: unknown key (did you mean 'minReplicas'? known: targetRef, minReplicas, "
            "maxReplicas, metrics, behavior, cooldownSeconds, scaleFromZero, fallback, schedules, forecast, "
            "sizing, burst, dryRun, paused)",
        ),
        (
            with_(fallback={"action": "replicas"}),
            "spec.fallback: action 'replicas' needs fallback.replicas",
        ),
    ],
)
def test_invalid_specs_name_the_field_and_the_value(data: dict[str, object], problem: str) -> None:
    with pytest.raises(specs.PolicyError) as caught:
        specs.parse_policy(data)
    assert problem in caught.value.problems


def test_missing_field_says_it_is_required() -> None:
    data = dict(MINIMAL)
    del data["maxReplicas"]
    with pytest.raises(specs.PolicyError) as caught:
        specs.parse_policy(data)
    assert caught.value.problems == ["spec.maxReplicas: is required"]


def test_snake_case_and_camel_case_both_load() -> None:
    camel = specs.parse_policy(with_(minReplicas=0, cooldownSeconds=60))
    snake = specs.parse_policy(
        {
            "target_ref": {"name": "worker"},
            "max_replicas": 10,
            "min_replicas": 0,
            "cooldown_seconds": 60,
            "metrics": MINIMAL["metrics"],
        }
    )
    assert camel == snake


def test_a_policy_error_survives_pickling_whole() -> None:
    # the sweep's worker processes send errors back pickled
    error = specs.PolicyError(
        ["spec.maxReplicas: must be >= 1, was 0", "spec.metrics: is required"], [("a",), ()]
    )
    back = pickle.loads(pickle.dumps(error))
    assert (back.problems, back.locations, str(back)) == (error.problems, error.locations, str(error))
