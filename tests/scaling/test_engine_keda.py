"""Zero and back, cooldown and fallback, as KEDA documents them.

SPEC = https://keda.sh/docs/2.x/reference/scaledobject-spec/
ACT = https://keda.sh/docs/2.x/concepts/scaling-deployments/#activating-and-scaling-thresholds
"""

from __future__ import annotations

import pytest

from scaleplane.scaling import decisions, reasons, specs
from scaleplane.scaling.deciding import engine
from scaleplane.scaling.decisions import ScalingState
from tests.support.engine_ticks import metric, observe, policy, run


def scale_to_zero(**overrides: object) -> specs.ScalingPolicySpec:
    settings: dict[str, object] = {
        "minReplicas": 0,
        "maxReplicas": 20,
        "cooldownSeconds": 300,
        "metrics": [metric("load", "AverageValue", 10, activation=5)],
    }
    return policy(**{**settings, **overrides})


@pytest.mark.parametrize(
    ("value", "desired", "reason"),
    [
        # ACT: the scaler is active when the metric is above activationThreshold; at 0 that wakes the target
        (6.0, 1, reasons.ACTIVATED),
        (5.0, 0, reasons.IDLE),  # "above", strictly: 5 is not above 5
        (0.0, 0, reasons.IDLE),
        (None, 0, reasons.IDLE),  # a failed read does not wake anything
        (-3.0, 0, reasons.IDLE),
    ],
)
def test_activation_from_zero(value: float | None, desired: int, reason: str) -> None:
    decision, state = engine.decide(scale_to_zero(), observe(0, 0, load=value), ScalingState(), 0)
    assert (decision.desired, decision.reason) == (desired, reason)
    assert state.last_active_at == (0 if desired else None)


def test_waking_goes_to_min_replica_count_when_it_is_set() -> None:
    # SPEC#minreplicacount: KEDA's scaleFromZero asks for minReplicaCount, or 1 when that is 0
    spec = policy(minReplicas=3, metrics=[metric("load", "AverageValue", 10, activation=5)])
    decision, _ = engine.decide(spec, observe(0, 0, load=0.0), ScalingState(), 0)
    assert (decision.desired, decision.reason) == (3, reasons.MIN_REPLICAS)


def test_after_waking_the_hpa_rules_take_over() -> None:
    # ACT: "Scaling phase: ... the HPA scales from 1 to N"; default scale-up: max(+100 %, +4) per 15 s
    assert run(scale_to_zero(), [200.0] * 4, start=0) == [1, 5, 10, 20]


def test_cooldown_before_scaling_to_zero() -> None:
    # SPEC#cooldownperiod: "The period to wait after the last trigger reported active before scaling the
    # resource back to 0" (300 s by default)
    decided: list[decisions.Decision] = []
    loads = [50.0, 50.0] + [0.0] * 24
    sequence = run(scale_to_zero(), loads, start=5, decisions_out=decided)
    # the down-window holds 5 until its last recommendation of 5 (t=15) leaves it at t=315, then the HPA
    # floor of 1; last active at t=15, so scaled in at the first tick where 15 + 300 < now: t=330
    assert sequence == [5] * 21 + [1] + [0] * 4
    assert decided[22].reason == reasons.COOLED_DOWN
    assert decided[23].reason == reasons.IDLE


def test_activation_wins_over_the_scaling_target() -> None:
    # ACT: "if the threshold is 10 and activationThreshold is 50 and the metric is 40, the scaler is not
    # active and it will be scaled to zero even if the HPA requires 4 instances"
    spec = policy(minReplicas=0, maxReplicas=20, metrics=[metric("load", "AverageValue", 10, activation=50)])
    state = ScalingState(last_active_at=0.0)
    during, _ = engine.decide(spec, observe(100, 4, load=40.0), state, 100)
    after, _ = engine.decide(spec, observe(301, 4, load=40.0), state, 301)
    assert (during.desired, during.reason) == (4, reasons.AT_TARGET)
    assert (after.desired, after.reason) == (0, reasons.COOLED_DOWN)


def test_no_scale_to_zero_while_a_metric_fails() -> None:
    spec = policy(
        minReplicas=0,
        metrics=[metric("load", "AverageValue", 10, activation=5), metric("lag", "AverageValue", 10)],
    )
    decision, _ = engine.decide(spec, observe(1000, 2, load=0.0, lag=None), ScalingState(), 1000)
    assert decision.desired == 2


def test_fallback_to_replicas_after_consecutive_failures() -> None:
    # SPEC#fallback: "failureThreshold: the number of consecutive times each scaler has failed to get
    # metrics from its source, after which KEDA will set the replicas to fallback.replicas"
    spec = policy(maxReplicas=20, fallback={"failureThreshold": 3, "action": "replicas", "replicas": 6})
    decided: list[decisions.Decision] = []
    sequence = run(spec, [None, None, None, None, 150.0], start=2, decisions_out=decided)
    assert sequence[:4] == [2, 2, 6, 6]
    assert [d.reason for d in decided[:3]] == [
        reasons.METRICS_UNAVAILABLE,
        reasons.METRICS_UNAVAILABLE,
        reasons.FALLBACK_REPLICAS,
    ]
    assert reasons.RULE_FALLBACK in decided[2].rules
    # the metric is back: the fallback ends, and the down-window keeps 6 as the HPA would
    assert (decided[4].desired, decided[4].reason) == (6, reasons.STABILIZED)


def test_fallback_failures_reset_on_a_good_read() -> None:
    spec = policy(fallback={"failureThreshold": 2, "action": "replicas", "replicas": 9})
    state = ScalingState()
    for at, value in ((0, None), (15, 100.0), (30, None)):
        decision, state = engine.decide(spec, observe(at, 2, load=value), state, at)
    assert state.consecutive_failures == 1
    assert decision.desired == 2


def test_fallback_hold_freezes_both_ways() -> None:
    spec = policy(
        metrics=[metric("load", "AverageValue", 100), metric("lag", "AverageValue", 10)],
        fallback={"failureThreshold": 1, "action": "hold"},
    )
    decision, _ = engine.decide(spec, observe(0, 4, load=5000.0, lag=None), ScalingState(), 0)
    assert (decision.desired, decision.reason) == (4, reasons.FALLBACK_HOLD)


def test_scale_from_zero_on_demand_skips_the_one_replica_step() -> None:
    # KEDA's way (the default) wakes to 1 and lets the HPA grow it a tick later; `scaleFromZero: demand`
    # wakes straight to what the metrics ask: ceil(95 / 10) = 10, capped at maxReplicas.
    keda = scale_to_zero()
    demand = scale_to_zero(scaleFromZero="demand")
    capped = scale_to_zero(scaleFromZero="demand", maxReplicas=6)
    assert run(keda, [95.0] * 3, start=0) == [1, 5, 10]
    assert run(demand, [95.0] * 3, start=0) == [10, 10, 10]
    assert run(capped, [95.0] * 2, start=0) == [6, 6]
