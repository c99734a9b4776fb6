"""The HPA's replica calculator for Resource metrics, table-tested with cases derived from its code
(kubernetes pkg/controller/podautoscaler/replica_calculator.go and its tests); each case says why."""

from __future__ import annotations

from typing import Any

import pytest

from scaleplane.scaling.deciding import utilization as u

NOW = 10_000.0
OLD: dict[str, Any] = {"started_at": 0.0, "ready_since": 10.0, "sampled_at": NOW}  # running for hours


def pod(name: str, usage: float | None, request: float | None = 1.0, **extra: Any) -> u.PodSample:
    return u.PodSample(name=name, usage=usage, request=request, **{**OLD, **extra})


def pods(*usages: float | None) -> list[u.PodSample]:
    return [pod(f"p{i}", usage) for i, usage in enumerate(usages)]


NEVER_READY = {"ready": False, "ready_since": 10.0}  # unready since 10 s after start: never was ready
YOUNG_STALE = {"started_at": NOW - 100, "ready_since": NOW - 90, "sampled_at": NOW - 80}

# (id, current, target %, resource, pods, expected replicas, expected utilization, why)
UTILIZATION = [
    (
        "scale-up",
        3,
        30,
        "cpu",
        pods(0.3, 0.5, 0.7),
        5,
        50,
        "1500m of 3000m is 50 %; 50/30 = 1.67; ceil(1.67 x 3 ready) = 5 (the HPA's TestReplicaCalcScaleUp)",
    ),
    (
        "scale-down",
        5,
        50,
        "cpu",
        pods(0.1, 0.3, 0.5, 0.25, 0.0),
        3,
        23,
        "1150m of 5000m is 23 % (integer); 23/50 = 0.46; ceil(0.46 x 5) = ceil(2.3) = 3",
    ),
    (
        "within-tolerance",
        3,
        50,
        "cpu",
        pods(0.5, 0.55, 0.5),
        3,
        51,
        "1550m of 3000m is 51 %; |1 - 51/50| = 0.02 <= 0.1: the current 3",
    ),
    (
        "integer-utilization",
        3,
        45,
        "cpu",
        pods(0.5, 0.5, 0.499),
        3,
        49,
        "1499m of 3000m is 49.97 %, truncated to 49; 49/45 = 1.089 is within tolerance: 3 (unrounded, "
        "1.11 would have asked for 4)",
    ),
    (
        "missing-on-scale-up-count-zero",
        3,
        50,
        "cpu",
        pods(0.9, 0.9, None),
        4,
        90,
        "sampled pods at 90 % (1.8, up); the missing pod counts 0: 1800m of 3000m = 60 %, 1.2; ceil(3.6) = 4",
    ),
    (
        "missing-on-scale-down-count-their-request",
        4,
        50,
        "cpu",
        pods(0.1, 0.1, 0.1, None),
        3,
        10,
        "sampled pods at 10 % (0.2, down); the missing pod counts 100 %: 1300m of 4000m = 32 %, 0.64; "
        "ceil(2.56) = 3, not the ceil(0.2 x 3) = 1 the sampled pods alone would give",
    ),
    (
        "filling-in-flips-the-direction",
        3,
        50,
        "cpu",
        pods(0.6, None, None),
        3,
        60,
        "one sampled pod at 60 % (1.2, up); two missing at 0 give 600m of 3000m = 20 % (0.4, down): the "
        "direction flips, so the current 3",
    ),
    (
        "unready-cpu-pod-rebalanced",
        3,
        30,
        "cpu",
        [pod("p0", 0.3, **NEVER_READY), pod("p1", 0.5), pod("p2", 0.7)],
        4,
        60,
        "p0 never became ready, so it is set aside: 1200m of 2000m = 60 % (2.0, up); on a scale-up it "
        "counts 0: "
        "1200m of 3000m = 40 %, 1.33; ceil(4.0) = 4 (the HPA's TestReplicaCalcScaleUpUnreadyLessScale)",
    ),
    (
        "unready-memory-pod-counted",
        3,
        30,
        "memory",
        [pod("p0", 0.3, **NEVER_READY), pod("p1", 0.5), pod("p2", 0.7)],
        5,
        50,
        "readiness sets pods aside for CPU only: memory counts all three, 50 % against 30: 5",
    ),
    (
        "young-pod-with-a-stale-sample",
        3,
        50,
        "cpu",
        [pod("p0", 0.1, **YOUNG_STALE), pod("p1", 0.9), pod("p2", 0.9)],
        4,
        90,
        "p0 started 100 s ago (inside the 300 s CPU initialization period) and its sample is older than its "
        "readiness plus one 30 s window: set aside; 1800m of 2000m = 90 % (1.8), p0 at 0: 60 %, 1.2; 4",
    ),
    (
        "unready-after-being-ready-counted",
        2,
        50,
        "cpu",
        [pod("p0", 0.9, ready=False, ready_since=5000.0), pod("p1", 0.9)],
        4,
        90,
        "past the initialization period an unready pod is set aside only if it never was ready; p0 turned "
        "unready at 5000 s, so it counts: 90 % (1.8) x 2 = 4 (set aside, the rebalance would flip, keep 2)",
    ),
    (
        "pending-pod-set-aside-on-scale-down",
        2,
        50,
        "cpu",
        [*pods(0.1, 0.1), pod("p2", None, phase="Pending")],
        1,
        10,
        "a Pending pod is set aside; on a scale-down set-aside pods are not filled in: ceil(0.2 x 2) = 1",
    ),
    (
        "failed-and-deleting-pods-dropped",
        2,
        50,
        "cpu",
        [*pods(0.9, 0.9), pod("f", 0.0, phase="Failed"), pod("d", 0.0, deleting=True)],
        4,
        90,
        "failed and terminating pods are neither counted nor filled in: 90 % (1.8) x 2 ready = 4",
    ),
    (
        "rolling-update-guard",
        10,
        50,
        "cpu",
        pods(1.0, 1.0, None),
        10,
        100,
        "10 asked, 3 pods listed (a rollout): 100 % (2.0, up); the missing pod at 0 gives 66 %, 1.32, and "
        "ceil(1.32 x 3) = 4, which would be a scale-down on a scale-up: the current 10",
    ),
]


@pytest.mark.parametrize(
    ("current", "target", "resource", "samples", "replicas", "percent", "why"),
    [case[1:] for case in UTILIZATION],
    ids=[case[0] for case in UTILIZATION],
)
def test_utilization(
    current: int,
    target: int,
    resource: str,
    samples: list[u.PodSample],
    replicas: int,
    percent: int,
    why: str,
) -> None:
    result = u.resource_replicas(current, target, samples, resource, NOW)
    assert (result.replicas, result.utilization) == (replicas, percent), why


AVERAGE_VALUE = [
    ("scale-up", 2, 0.25, pods(0.4, 0.6), 4, "an average of 500m against 250m: 2.0 x 2 ready = 4"),
    (
        "missing-at-exactly-the-target-counts-zero",
        2,
        0.25,
        pods(0.25, None),
        1,
        "the sampled average equals the target (ratio 1.0); the HPA's `else` then counts the missing pod "
        "as 0, "
        "not as the target: (250 + 0) / 2 = 125m, 0.5; neither direction flipped from 1.0: ceil(0.5 x 2) = 1",
    ),
    (
        "missing-on-scale-down-count-the-target",
        3,
        0.5,
        pods(0.1, 0.1, None),
        2,
        "sampled average 100m (0.2, down); the missing pod counts the target 500m: 700m / 3 = 233m, 0.467; "
        "ceil(1.4) = 2",
    ),
]


@pytest.mark.parametrize(
    ("current", "target", "samples", "replicas", "why"),
    [case[1:] for case in AVERAGE_VALUE],
    ids=[case[0] for case in AVERAGE_VALUE],
)
def test_average_value(
    current: int, target: float, samples: list[u.PodSample], replicas: int, why: str
) -> None:
    assert u.average_value_replicas(current, target, samples, "cpu", NOW).replicas == replicas, why


@pytest.mark.parametrize(
    ("samples", "message"),
    [
        ([], "no pods returned by selector"),
        ([pod("p0", 0.5, request=None)], "missing request for cpu (pod p0)"),
        (pods(None, None), "did not receive metrics for any ready pods"),
    ],
    ids=["no-pods", "missing-request", "no-metrics"],
)
def test_the_hpas_errors(samples: list[u.PodSample], message: str) -> None:
    with pytest.raises(u.UtilizationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        u.resource_replicas(1, 50, samples, "cpu", NOW)
