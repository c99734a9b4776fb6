"""Resource metrics (`type: Resource`) through `engine.decide`: the spec's errors, and the replica
calculator reached from a per-pod observation (the calculator's own cases are in test_utilization)."""

from __future__ import annotations

from typing import Any

import pytest

from scaleplane.scaling import decisions, reasons, specs
from scaleplane.scaling.deciding import engine, utilization

NOW = 100_000.0
CPU_60 = {
    "type": "Resource",
    "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 60}},
}


def policy(*metrics: dict[str, Any], **extra: Any) -> specs.ScalingPolicySpec:
    return specs.parse_policy(
        {"targetRef": {"name": "web"}, "maxReplicas": 20, "metrics": list(metrics), **extra}
    )


def running(name: str, usage: float | None, request: float = 1.0, **extra: Any) -> utilization.PodSample:
    settled = {"started_at": NOW - 3600, "ready_since": NOW - 3590, "sampled_at": NOW, "window": 60.0}
    return utilization.PodSample(name, request=request, usage=usage, **{**settled, **extra})


def observe(current: int, *samples: decisions.MetricSample) -> decisions.Observation:
    return decisions.Observation(NOW, current, current, samples)


def cpu(*pods: utilization.PodSample, error: str | None = None) -> decisions.MetricSample:
    return decisions.MetricSample("cpu", None, error, None if error else pods)


@pytest.mark.parametrize(
    ("metric", "extra", "problem"),
    [
        (
            {
                "type": "Resource",
                "resource": {"name": "gpu", "target": {"type": "Utilization", "averageUtilization": 5}},
            },
            {},
            "spec.metrics[0].resource.name: must be 'cpu' or 'memory', was 'gpu'",
        ),
        (
            {
                "type": "Resource",
                "resource": {"name": "cpu", "target": {"type": "Utilization", "averageValue": "1"}},
            },
            {},
            "spec.metrics[0].resource.target: type Utilization needs averageUtilization",
        ),
        (
            {
                "type": "Resource",
                "resource": {"name": "memory", "target": {"type": "AverageValue", "averageValue": "1GB"}},
            },
            {},
            "spec.metrics[0].resource.target.averageValue: not a Kubernetes quantity "
            "(e.g. 250m, 256Mi, 20Gi); for 'gb' write G or Gi, was '1GB'",
        ),
        (
            {**CPU_60, "query": "sum(x)"},
            {},
            "spec.metrics[0]: a Resource metric reads the pods' usage: query is for query metrics "
            "(the level goes in resource.target)",
        ),
        (
            {"type": "External", "query": "sum(x)", "target": {"value": 1}},
            {},
            "spec.metrics[0].type: must be 'Resource', was 'External'",
        ),
        ({"query": "sum(x)"}, {}, "spec.metrics[0]: needs target (or type: Resource with resource)"),
        (
            {
                "type": "Resource",
                "resource": {
                    "name": "cpu",
                    "container": "App_1",
                    "target": {"type": "Utilization", "averageUtilization": 5},
                },
            },
            {},
            "spec.metrics[0].resource.container: must be a container name (a DNS label: lowercase letters, "
            "digits and '-'), was 'App_1'",
        ),
        (
            CPU_60,
            {"minReplicas": 0},
            "spec: minReplicas 0 needs a query metric to wake the target: at zero replicas there are no pods "
            "whose cpu or memory a Resource metric could read (set minReplicas >= 1)",
        ),
    ],
)
def test_a_bad_resource_metric_is_named_with_its_field_and_value(
    metric: dict[str, Any], extra: dict[str, Any], problem: str
) -> None:
    with pytest.raises(specs.PolicyError) as caught:
        policy({"name": "cpu", **metric}, **extra)
    assert caught.value.problems == [problem]


def test_utilization_scales_as_the_hpa_formula_says() -> None:
    spec = policy({"name": "cpu", **CPU_60})
    # 3 pods at 900m of 1000m: 90 %; 90 / 60 = 1.5; ceil(1.5 x 3) = 5 (the Pods 4 / 15 s rule allows 7)
    decision, _ = engine.decide(
        spec, observe(3, cpu(*(running(f"p{i}", 0.9) for i in range(3)))), decisions.ScalingState(), NOW
    )
    assert (decision.desired, decision.reason) == (5, reasons.SCALE_UP)
    assert decision.recommendations[0].value == 90 and decision.recommendations[0].target == 60
    assert "cpu is 90 % of the pods' requests against a target of 60 %, asking for 5" in decision.message


def test_missing_and_unready_pods_follow_the_calculator_and_show_in_the_note() -> None:
    spec = policy({"name": "cpu", **CPU_60})
    pods = (
        running("a", 0.9),
        running("b", 0.9),
        running("c", None),  # no metrics: counted at 0 on a scale-up
        running("d", 0.1, ready=False, started_at=NOW - 60, ready_since=NOW - 60),  # starting: set aside
    )
    decision, _ = engine.decide(spec, observe(4, cpu(*pods)), decisions.ScalingState(), NOW)
    # 90 % over the 2 ready pods: ratio 1.5; filled in (c and d at 0 of 1000m each): 1800 / 4000 = 45 %,
    # 0.75 points the other way, so the HPA keeps the current 4.
    assert decision.desired == 4
    assert "1 pod(s) without metrics" in decision.recommendations[0].note
    assert "1 pod(s) not ready set aside" in decision.recommendations[0].note


def test_a_failed_pod_read_holds_and_no_pods_at_zero_is_not_a_failure() -> None:
    spec = policy({"name": "cpu", **CPU_60})
    held, state = engine.decide(
        spec,
        observe(4, cpu(error="cannot read the pods' usage_cpu: no answer")),
        decisions.ScalingState(),
        NOW,
    )
    assert (held.desired, held.reason) == (4, reasons.METRICS_UNAVAILABLE) and state.consecutive_failures == 1
    waking = policy(
        {"name": "cpu", **CPU_60},
        {"name": "queue", "query": "sum(q)", "target": {"type": "AverageValue", "value": 10}},
        minReplicas=0,
    )
    at_zero = decisions.Observation(NOW, 0, 0, (cpu(), decisions.MetricSample("queue", 0.0)))
    decision, state = engine.decide(waking, at_zero, decisions.ScalingState(), NOW)
    assert (decision.desired, decision.reason, state.consecutive_failures) == (0, reasons.IDLE, 0)


def test_memory_average_value_reads_bytes_per_pod() -> None:
    spec = policy(
        {
            "name": "mem",
            "type": "Resource",
            "resource": {
                "name": "memory",
                "container": "app",
                "target": {"type": "AverageValue", "averageValue": "256Mi"},
            },
        }
    )
    mib = 2**20
    pods = tuple(running(f"p{i}", 384 * mib, request=512 * mib) for i in range(2))
    sample = decisions.MetricSample("mem", None, None, pods)
    decision, _ = engine.decide(spec, observe(2, sample), decisions.ScalingState(), NOW)
    # 384Mi per pod against 256Mi: ratio 1.5; ceil(1.5 x 2) = 3
    assert decision.desired == 3 and decision.recommendations[0].value == pytest.approx(384 * mib)
