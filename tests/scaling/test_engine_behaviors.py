"""`behavior`: exact replica sequences on simulated 15 s ticks, from the HPA documentation's examples.

HPA = https://kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale/
GO = kubernetes/kubernetes pkg/controller/podautoscaler/horizontal.go
"""

from __future__ import annotations

from scaleplane.scaling import decisions, reasons, specs
from scaleplane.scaling.deciding import behaviors
from tests.support.engine_ticks import policy, run


def changes(sequence: list[int]) -> list[int]:
    """The distinct counts in order: [100, 100, 90, 90, 81] -> [100, 90, 81]."""
    return [n for i, n in enumerate(sequence) if i == 0 or n != sequence[i - 1]]


def change_times(sequence: list[int], tick: float = 15.0) -> list[float]:
    return [i * tick for i in range(1, len(sequence)) if sequence[i] != sequence[i - 1]]


def test_default_scale_up_doubles_or_adds_four_every_15_seconds() -> None:
    # HPA#default-behavior: "4 pods or a 100% of the currently running replicas will be added every
    # 15 seconds till the HPA reaches its steady state"
    assert run(policy(), [10_000] * 8, start=1) == [5, 10, 20, 40, 80, 100, 100, 100]


def test_default_scale_down_waits_300_seconds_then_goes_all_the_way() -> None:
    # HPA#default-behavior: scale-down stabilization window 300 s; "100% of the currently running
    # replicas may be removed"
    decided: list[decisions.Decision] = []
    sequence = run(policy(), [1000] * 4 + [200] * 21, start=10, decisions_out=decided)
    # the last recommendation of 10 is at t=45; it leaves the window at t=345 (tick 23)
    assert sequence == [10] * 23 + [2, 2]
    assert decided[10].reason == reasons.STABILIZED
    assert decided[23].reason == reasons.SCALE_DOWN


def test_custom_downscale_stabilization_window_of_one_minute() -> None:
    # HPA#example-change-downscale-stabilization-window: stabilizationWindowSeconds: 60
    spec = policy(behavior={"scaleDown": {"stabilizationWindowSeconds": 60}})
    assert run(spec, [1000] * 2 + [200] * 6, start=10) == [10, 10, 10, 10, 10, 2, 2, 2]


def test_scaling_policies_example_80_to_10() -> None:
    # HPA#scaling-policies: Pods 4 / 60 s and Percent 10 / 60 s: "if there are 80 replicas and the target
    # has to be scaled down to 10 replicas then during the first step 8 replicas will be reduced. In the
    # next iteration when the number of replicas is 72, 10% of the pods is 7.2 but the number is rounded
    # up to 8 ... Once the number of replicas falls below 40, the first policy (Pods) is applied and
    # 4 replicas will be reduced at a time." (window 0 here, to show the policies alone)
    spec = policy(
        behavior={
            "scaleDown": {
                "stabilizationWindowSeconds": 0,
                "policies": [
                    {"type": "Pods", "value": 4, "periodSeconds": 60},
                    {"type": "Percent", "value": 10, "periodSeconds": 60},
                ],
            }
        }
    )
    sequence = run(spec, [1000] * 60, start=80)
    assert changes(sequence) == [72, 64, 57, 51, 45, 40, 36, 32, 28, 24, 20, 16, 12, 10]
    assert change_times(sequence) == [60.0 * k for k in range(1, 14)]  # once a period


def test_limit_scale_down_rate_to_10_percent_a_minute() -> None:
    # HPA#example-limit-scale-down-rate: Percent 10 / 60 s (the default 300 s window still applies)
    spec = policy(
        behavior={"scaleDown": {"policies": [{"type": "Percent", "value": 10, "periodSeconds": 60}]}}
    )
    decided: list[decisions.Decision] = []
    sequence = run(spec, [1000] * 130, start=100, decisions_out=decided)
    assert sequence[:20] == [100] * 20  # the first recommendation (100, at t=0) holds until t=300
    # ... and at 11 the ratio 1000 / (100 * 11) = 0.91 is inside the tolerance band: 11 stays
    assert changes(sequence) == [100, 90, 81, 72, 64, 57, 51, 45, 40, 36, 32, 28, 25, 22, 19, 17, 15, 13, 11]
    assert change_times(sequence)[:3] == [300.0, 360.0, 420.0]
    assert decided[21].reason == reasons.RATE_LIMITED


def test_limit_scale_down_with_select_policy_min() -> None:
    # HPA#example-limit-scale-down-rate: "no more than 5 Pods are removed per minute ... selectPolicy Min
    # means that the autoscaler chooses the policy that affects the smallest number of Pods"
    spec = policy(
        behavior={
            "scaleDown": {
                "stabilizationWindowSeconds": 0,
                "policies": [
                    {"type": "Percent", "value": 10, "periodSeconds": 60},
                    {"type": "Pods", "value": 5, "periodSeconds": 60},
                ],
                "selectPolicy": "Min",
            }
        }
    )
    sequence = run(spec, [1000] * 100, start=100)
    assert change_times(sequence)[:2] == [60.0, 120.0]
    assert changes(sequence) == [
        95,
        90,
        85,
        80,
        75,
        70,
        65,
        60,
        55,
        50,
        45,
        40,
        36,
        32,
        28,
        25,
        22,
        19,
        17,
        15,
        13,
        11,
    ]  # fmt: skip  (11 is inside the tolerance band of 10)


def test_disable_scale_down() -> None:
    # HPA#example-disable-scale-down: selectPolicy Disabled "turns off scaling the given direction"
    spec = policy(behavior={"scaleDown": {"selectPolicy": "Disabled"}})
    decided: list[decisions.Decision] = []
    assert run(spec, [200] * 30, start=10, decisions_out=decided) == [10] * 30
    assert decided[-1].reason == reasons.SCALING_DISABLED
    assert run(spec, [5000] * 2, start=10) == [20, 40]  # scaling up is untouched


def test_scale_up_stabilization_takes_the_lowest_recommendation() -> None:
    # HPA#stabilization-window / GO stabilizeRecommendationWithBehaviors: for scaling up, the lowest
    # recommendation of the window
    spec = policy(behavior={"scaleUp": {"stabilizationWindowSeconds": 60}})
    decided: list[decisions.Decision] = []
    sequence = run(spec, [200, 200] + [1000] * 5, start=2, decisions_out=decided)
    # the recommendation of 2 at t=15 leaves the 60 s window at t=75; then 2 -> 6 (max(+4, +100%)) -> 10
    assert sequence == [2, 2, 2, 2, 2, 6, 10]
    assert decided[3].reason == reasons.STABILIZED


def test_no_flapping_on_a_load_that_jumps_every_tick() -> None:
    # HPA#flapping: the down-window keeps the highest recent recommendation
    assert run(policy(), [1000, 200] * 10, start=10) == [10] * 20


def test_percent_arithmetic_is_go_float64() -> None:
    # GO calculateScaleUpLimitWithScalingRules: ceil(float64(50) * (1 + 10/100)) = ceil(55.00000000000001)
    rules = specs.ScaleUpRules(policies=(specs.RateLimitPolicy(type="Percent", value=10, period_seconds=60),))
    assert behaviors.scale_up_limit(50, (), rules, 0.0) == 56
    assert behaviors.scale_up_limit(40, (), rules, 0.0) == 44


def test_rate_limits_count_both_directions_in_the_period() -> None:
    # GO (1.27+): periodStartReplicas = current - replicasAddedInCurrentPeriod
    #                                           + replicasDeletedInCurrentPeriod
    rules = specs.ScaleUpRules(policies=(specs.RateLimitPolicy(type="Pods", value=4, period_seconds=60),))
    events = ((100.0, 10, 14), (110.0, 14, 12))
    assert behaviors.scale_up_limit(12, events, rules, 120.0) == 14  # start 12 - 4 + 2 = 10, plus 4
    assert behaviors.scale_up_limit(12, events, rules, 159.0) == 14  # t=100 is newer than 159 - 60
    assert behaviors.scale_up_limit(12, events, rules, 160.0) == 18  # not strictly newer: start 12 + 2
    assert behaviors.scale_up_limit(12, events, rules, 170.0) == 16  # both left: start 12


def test_select_policy_max_takes_the_biggest_change_up() -> None:
    rules = specs.ScaleUpRules()  # Percent 100 / 15 s, Pods 4 / 15 s
    assert behaviors.scale_up_limit(1, (), rules, 0.0) == 5
    assert behaviors.scale_up_limit(10, (), rules, 0.0) == 20
    assert behaviors.scale_up_limit(10, (), rules.model_copy(update={"select_policy": "Min"}), 0.0) == 14
