"""Issue 8's policy examples: what the Kubernetes API would refuse is refused, with one root cause each."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from scaleplane.scaling import specs

MINIMAL: dict[str, Any] = {
    "targetRef": {"name": "worker"},
    "maxReplicas": 10,
    "metrics": [{"name": "queue", "query": "sum(queue_depth)", "target": {"value": 20}}],
}


def broken(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    data = copy.deepcopy(MINIMAL)
    node = data
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return data


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (
            broken(("maxReplicas",), "40"),
            "spec.maxReplicas: must be an integer, was '40' (write 40 without quotes)",
        ),
        (
            broken(("metrics", 0, "target", "value"), "0.2"),
            "spec.metrics[0].target.value: must be a number, was '0.2' (write 0.2 without quotes)",
        ),
        (broken(("maxReplicas",), 10**24), "spec.maxReplicas: must be at most 2147483647 (int32), was 10000"),
        (broken(("maxReplicas",), True), "spec.maxReplicas: must be an integer, was True (true/false is not"),
        (broken(("minReplicas",), 1.5), "spec.minReplicas: must be an integer, was 1.5"),
        (broken(("dryRun",), "yes"), "spec.dryRun: must be true or false, was 'yes'"),
        (broken(("targetRef", "name"), 7), "spec.targetRef.name: must be a string, was 7"),
        (
            broken(("forecast",), {"model": "holt-winters"}),
            "spec.forecast: model 'holt-winters' needs seasonSeconds",
        ),
        (
            broken(("metrics", 0, "target", "valeu"), 3),
            "spec.metrics[0].target.valeu: unknown key (did you mean 'value'? known: type, value)",
        ),
    ],
)
def test_refused_with_the_field_the_value_and_the_fix(data: dict[str, Any], problem: str) -> None:
    with pytest.raises(specs.PolicyError) as caught:
        specs.parse_policy(data)
    assert len(caught.value.problems) == 1, caught.value.problems
    assert caught.value.problems[0].startswith(problem), caught.value.problems


def test_an_invalid_metric_is_one_problem_not_a_cascade() -> None:
    with pytest.raises(specs.PolicyError) as caught:
        specs.parse_policy(broken(("metrics", 0, "name"), "bad name"))
    assert len(caught.value.problems) == 1
    assert caught.value.problems[0].startswith("spec.metrics[0].name:")
    assert caught.value.locations == [("metrics", 0, "name")]


@pytest.mark.parametrize(("spec", "problem"), [(None, "spec: is required"), ([1], "spec: must be a mapping")])
def test_a_missing_or_wrong_spec_says_so(spec: Any, problem: str) -> None:
    with pytest.raises(specs.PolicyError, match=problem):
        specs.parse_policy(spec)


def test_numbers_written_as_numbers_still_load() -> None:
    policy = specs.parse_policy(broken(("metrics", 0, "target", "value"), 20))  # int where a float goes
    assert policy.metrics[0].target.value == 20.0
