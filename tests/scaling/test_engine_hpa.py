"""The HPA's algorithm, case by case from its documentation and its replica calculator.

HPA = https://kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale/
CALC = kubernetes/kubernetes pkg/controller/podautoscaler/replica_calculator.go
"""

from __future__ import annotations

import pytest

from scaleplane.scaling import reasons
from scaleplane.scaling.deciding import engine
from scaleplane.scaling.decisions import ScalingState
from tests.support.engine_ticks import metric, observe, policy

# The algorithm's sections describe the replica calculation alone: no down-window holding the count.
NO_WINDOW = {"scaleDown": {"stabilizationWindowSeconds": 0}}


@pytest.mark.parametrize(
    ("source", "kind", "target", "value", "current", "ready", "raw", "desired"),
    [
        # HPA#algorithm-details: "if the current metric value is 200m, and the desired value is 100m,
        # the number of replicas will be doubled, since 200.0 / 100.0 == 2.0"
        ("HPA#algorithm-details doubled", "Value", 100, 200, 4, 4, 8, 8),
        # HPA#algorithm-details: "If the current value is instead 50m, you'll halve the number of replicas"
        ("HPA#algorithm-details halved", "Value", 100, 50, 4, 4, 2, 2),
        # HPA#algorithm-details: "skips any scaling action if the ratio is sufficiently close to 1.0
        # (within a globally-configurable tolerance, 0.1 by default)"
        ("HPA#algorithm-details tolerance above", "Value", 100, 105, 10, 10, 10, 10),
        ("HPA#algorithm-details tolerance below", "Value", 100, 95, 10, 10, 10, 10),
        ("HPA#algorithm-details tolerance edge is inside", "Value", 100, 110, 10, 10, 10, 10),
        ("HPA#algorithm-details just outside the band", "Value", 100, 111, 10, 10, 12, 12),
        # CALC getUsageRatioReplicaCount: Value multiplies by the READY pods (here 3 of 4)
        ("CALC Value uses ready pods", "Value", 100, 200, 4, 3, 6, 6),
        # CALC GetExternalPerPodMetricReplicas: AverageValue is ceil(total / target per pod)
        ("CALC AverageValue 1000/150 on 5", "AverageValue", 150, 1000, 5, 5, 7, 7),
        ("CALC AverageValue inside the band keeps 5", "AverageValue", 150, 780, 5, 5, 5, 5),
        ("CALC AverageValue scale down", "AverageValue", 150, 300, 5, 5, 2, 2),
    ],
)
def test_replica_calculation(
    source: str, kind: str, target: float, value: float, current: int, ready: int, raw: int, desired: int
) -> None:
    spec = policy(metrics=[metric("m", kind, target)], behavior=NO_WINDOW)
    decision, _ = engine.decide(spec, observe(0.0, current, ready, m=value), ScalingState(), 0.0)
    assert (decision.raw, decision.desired) == (raw, desired), source


def test_tolerance_per_direction() -> None:
    # HPA#tolerance (autoscaling/v2 behavior.scaleUp.tolerance / scaleDown.tolerance, Kubernetes 1.33+)
    spec = policy(
        metrics=[metric("m", "AverageValue", 100)],
        behavior={
            "scaleUp": {"tolerance": 0.0},
            "scaleDown": {"tolerance": 0.5, "stabilizationWindowSeconds": 0},
        },
    )
    up, _ = engine.decide(spec, observe(0, 10, m=1010), ScalingState(), 0)
    down, _ = engine.decide(spec, observe(0, 10, m=600), ScalingState(), 0)
    assert (up.desired, down.desired) == (11, 10)
    assert reasons.RULE_TOLERANCE in down.rules


def test_the_highest_metric_wins() -> None:
    # HPA#scaling-on-multiple-metrics: "calculate proposed replica counts for each metric, and then set
    # the workload to the highest"
    spec = policy(metrics=[metric("cpu", "AverageValue", 100), metric("queue", "AverageValue", 10)])
    decision, _ = engine.decide(spec, observe(0, 4, cpu=300, queue=80), ScalingState(), 0)
    assert (decision.desired, decision.driving_metric, decision.reason) == (8, "queue", reasons.SCALE_UP)
    assert [r.replicas for r in decision.recommendations] == [3, 8]


@pytest.mark.parametrize(
    ("cpu", "queue", "desired", "reason"),
    [
        # HPA#scaling-on-multiple-metrics: "If any of these metrics cannot be converted into a desired
        # replica count ... and a scale down is suggested by the metrics which can be fetched, scaling is
        # skipped. This means that the HPA is still capable of scaling up if one or more metrics give a
        # desiredReplicas greater than the current value."
        (100.0, None, 5, reasons.METRIC_FAILED),
        (900.0, None, 9, reasons.SCALE_UP),
        (None, None, 5, reasons.METRICS_UNAVAILABLE),
        (float("nan"), 10.0, 5, reasons.METRIC_FAILED),
        (float("inf"), 10.0, 5, reasons.METRIC_FAILED),
    ],
)
def test_a_failed_metric_blocks_scale_down_only(
    cpu: float | None, queue: float | None, desired: int, reason: str
) -> None:
    spec = policy(
        metrics=[metric("cpu", "AverageValue", 100), metric("queue", "AverageValue", 10)], behavior=NO_WINDOW
    )
    decision, state = engine.decide(spec, observe(0, 5, cpu=cpu, queue=queue), ScalingState(), 0)
    assert (decision.desired, decision.reason) == (desired, reason)
    assert state.consecutive_failures == 1


def test_a_missing_sample_counts_as_failed() -> None:
    spec = policy(metrics=[metric("cpu", "AverageValue", 100), metric("queue", "AverageValue", 10)])
    decision, _ = engine.decide(spec, observe(0, 5, cpu=100.0), ScalingState(), 0)
    assert decision.reason == reasons.METRIC_FAILED
    assert "queue" in decision.message


@pytest.mark.parametrize(
    ("current", "value", "desired", "reason"),
    [
        # horizontal.go reconcileAutoscaler: "Current number of replicas above Spec.MaxReplicas"
        (30, 100.0, 10, reasons.MAX_REPLICAS),
        # "Current number of replicas below Spec.MinReplicas"
        (1, 100.0, 3, reasons.MIN_REPLICAS),
        # HPA#algorithm-details: the result is bounded by minReplicas / maxReplicas
        (5, 5000.0, 10, reasons.MAX_REPLICAS),
        (5, 1.0, 3, reasons.MIN_REPLICAS),
    ],
)
def test_bounds(current: int, value: float, desired: int, reason: str) -> None:
    spec = policy(minReplicas=3, maxReplicas=10, behavior=NO_WINDOW)
    decision, _ = engine.decide(spec, observe(0, current, load=value), ScalingState(), 0)
    assert (decision.desired, decision.reason) == (desired, reason)


def test_the_decision_explains_itself() -> None:
    spec = policy(maxReplicas=6)
    decision, _ = engine.decide(spec, observe(0, 2, load=1000.0), ScalingState(), 0)
    assert (decision.raw, decision.desired, decision.driving_metric) == (10, 6, "load")
    assert decision.rules == (reasons.RULE_MAX_REPLICAS,)
    assert decision.message.startswith("scale from 2 to 6 replicas: capped at maxReplicas")
    assert "load is 1000 against a target of 100 per replica, asking for 10" in decision.message
    assert decision.direction == "up"
