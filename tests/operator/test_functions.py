"""A Function's children: valid bodies, the documented default query, replicas left to the policy."""

from __future__ import annotations

import pytest

from scaleplane.operator import functions
from scaleplane.scaling import specs


def test_children_of_a_concurrency_function() -> None:
    spec = functions.parse_function({"image": "img:1", "concurrency": 5, "maxReplicas": 4, "idleSeconds": 30})
    policy = specs.parse_policy(functions.policy_spec("fn", "ns", spec))
    assert policy.min_replicas == 0 and policy.max_replicas == 4 and policy.cooldown_seconds == 30
    metric = policy.metrics[0]
    assert metric.query == 'sum(scaleplane_function_inflight_requests{namespace="ns",function="fn"})'
    assert metric.target.type == "AverageValue" and metric.target.value == 5
    deployment = functions.deployment("fn", "ns", spec)
    assert deployment["spec"]["replicas"] == 0
    assert deployment["spec"]["selector"]["matchLabels"] == {functions.FUNCTION_LABEL: "fn"}
    assert "replicas" not in functions.template_patch("fn", spec)["spec"]
    assert functions.service("fn", "ns", spec)["spec"]["ports"][0]["targetPort"] == 8080


def test_rate_functions_need_a_rate_target() -> None:
    spec = functions.parse_function({"image": "img:1", "metric": "rate", "rateTarget": 50})
    assert "rate(scaleplane_function_requests_total" in functions.query("fn", "ns", spec)
    with pytest.raises(specs.PolicyError, match="rateTarget"):
        functions.parse_function({"image": "img:1", "metric": "rate"})
    with pytest.raises(specs.PolicyError, match=r"spec.port: must be 1..65535, was 70000"):
        functions.parse_function({"image": "img:1", "port": 70000})


def test_a_function_spec_is_read_as_strictly_as_a_policy() -> None:
    with pytest.raises(specs.PolicyError, match=r"spec.port: must be an integer, was '8080' \(write 8080"):
        functions.parse_function({"image": "img:1", "port": "8080"})
    with pytest.raises(specs.PolicyError, match=r"spec.imgae: unknown key \(did you mean 'image'\?"):
        functions.parse_function({"imgae": "img:1"})
