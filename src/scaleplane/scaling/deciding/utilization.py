"""The HPA's replica calculator for Resource metrics (CPU or memory of the pods' requests), per pod.

Pure: the pods are a value (`PodSample`, one per pod the target's selector lists), time is `now`.
Follows kubernetes/kubernetes pkg/controller/podautoscaler/replica_calculator.go (GetResourceReplicas,
calcPlainMetricReplicas, groupPods, calculatePodRequests) and metrics/utilization.go, read at commit
0006726; deleted and failed pods' samples are dropped rather than counted (as later versions do).

The arithmetic, in the HPA's integer milli-units (a quantity's MilliValue, rounded up):
    utilization = (sum of usage x 100) // (sum of requests)    over pods with a usage sample and a request
    ratio = utilization / target                                  within tolerance: keep the current count
    desired = ceil(ratio x ready pods)                            when no pod is missing or set aside
Pods are grouped first: Pending pods, and for CPU the unready ones (no Ready condition or start time;
unready within the CPU initialization period, or whose sample predates readiness plus one metric
window; after it, unready pods that never became ready) are set aside; pods without a sample are
missing. Then, as the HPA does: on a scale-up set-aside pods count as using 0; missing pods count as
using 0 on a scale-up and their full request (AverageValue: the target) on a scale-down; the ratio is
recomputed over them all, and if it is within tolerance or points the other way, or if the count it
gives moves against the ratio's direction (the guard for a rolling update's extra pods), the current
count is kept.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

Phase = Literal["Pending", "Running", "Succeeded", "Failed", "Unknown"]


class UtilizationError(ValueError):
    """No recommendation can be made: the HPA reports the same as a failed metric."""


@dataclass(frozen=True)
class PodSample:
    name: str
    phase: Phase = "Running"
    deleting: bool = False
    ready: bool | None = True  # the Ready condition's status; None: the pod has no Ready condition
    ready_since: float | None = 0.0  # the Ready condition's last transition time
    started_at: float | None = 0.0  # status.startTime
    request: float | None = None  # sum over the (chosen) containers, in cores or bytes; None: one lacks it
    usage: float | None = None  # cores or bytes; None: no sample for this pod
    sampled_at: float = 0.0  # the sample's timestamp
    window: float = 30.0  # the sample's window (a rate over 30 s, metrics-server's default)


@dataclass(frozen=True)
class CalculatorSettings:
    """The HPA controller's flags, with their defaults."""

    tolerance_up: float = 0.1  # behavior.scaleUp.tolerance (the --horizontal-pod-autoscaler-tolerance)
    tolerance_down: float = 0.1  # behavior.scaleDown.tolerance
    cpu_initialization_period: float = 300.0  # --horizontal-pod-autoscaler-cpu-initialization-period
    initial_readiness_delay: float = 30.0  # --horizontal-pod-autoscaler-initial-readiness-delay

    def within(self, ratio: float) -> bool:
        """The HPA's tolerances.isWithin: 1 - down <= ratio <= 1 + up changes nothing."""
        return 1.0 - self.tolerance_down <= ratio <= 1.0 + self.tolerance_up


@dataclass(frozen=True)
class Recommendation:
    replicas: int
    utilization: float  # percent of the requests (an integer), or AverageValue's average in milli-units
    ready_pods: int
    missing: tuple[str, ...]
    set_aside: tuple[str, ...]


def milli(value: float) -> int:
    return math.ceil(value * 1000 - 1e-9)


def _group(
    pods: list[PodSample], resource: str, now: float, settings: CalculatorSettings
) -> tuple[int, list[PodSample], set[str], set[str]]:
    ready = 0
    counted: list[PodSample] = []
    set_aside: set[str] = set()
    missing: set[str] = set()
    for pod in pods:
        if pod.deleting or pod.phase == "Failed":
            continue
        if pod.phase == "Pending":
            set_aside.add(pod.name)
            continue
        if pod.usage is None:
            missing.add(pod.name)
            continue
        if resource == "cpu" and _unready_for_cpu(pod, now, settings):
            set_aside.add(pod.name)
            continue
        ready += 1
        counted.append(pod)
    return ready, counted, set_aside, missing


def _unready_for_cpu(pod: PodSample, now: float, settings: CalculatorSettings) -> bool:
    if pod.ready is None or pod.started_at is None or pod.ready_since is None:
        return True
    if pod.started_at + settings.cpu_initialization_period > now:
        return pod.ready is False or pod.sampled_at < pod.ready_since + pod.window
    return pod.ready is False and pod.started_at + settings.initial_readiness_delay > pod.ready_since


def _requests(pods: list[PodSample], resource: str) -> dict[str, int]:
    found: dict[str, int] = {}
    for pod in pods:
        if pod.request is None:
            raise UtilizationError(f"missing request for {resource} (pod {pod.name})")
        found[pod.name] = milli(pod.request)
    return found


def _utilization(usage: dict[str, int], requests: dict[str, int], target: int) -> tuple[float, int]:
    total = sum(value for name, value in usage.items() if name in requests)
    requested = sum(requests[name] for name in usage if name in requests)
    if requested == 0:
        raise UtilizationError("no metrics returned matched known pods")
    current = (total * 100) // requested
    return current / target, current


def resource_replicas(
    current: int,
    target_utilization: int,
    pods: list[PodSample],
    resource: str,
    now: float,
    settings: CalculatorSettings = CalculatorSettings(),
) -> Recommendation:
    """`target: {type: Utilization, averageUtilization: N}` on `resource` (GetResourceReplicas)."""
    if not pods:
        raise UtilizationError("no pods returned by selector while calculating replica count")
    ready, counted, set_aside, missing = _group(pods, resource, now, settings)
    requests = _requests(pods, resource)  # every listed pod needs one, as calculatePodRequests asks
    usage = {p.name: milli(p.usage) for p in counted if p.usage is not None}
    if not usage:
        raise UtilizationError("did not receive metrics for any ready pods")
    ratio, utilization = _utilization(usage, requests, target_utilization)
    rebalance = bool(set_aside) and ratio > 1.0
    if not rebalance and not missing:
        replicas = current if settings.within(ratio) else math.ceil(ratio * ready)
        return Recommendation(replicas, utilization, ready, (), tuple(sorted(set_aside)))
    values = dict(usage)
    if ratio < 1.0:  # a scale-down: missing pods use their whole request
        values.update({name: requests[name] for name in missing})
    elif ratio > 1.0:  # a scale-up: missing pods use nothing
        values.update({name: 0 for name in missing})
    if rebalance:  # a scale-up: pods set aside use nothing
        values.update({name: 0 for name in set_aside})
    new_ratio, _ = _utilization(values, requests, target_utilization)
    replicas = _guarded(current, ratio, new_ratio, len(values), settings, length_guard=True)
    return Recommendation(replicas, utilization, ready, tuple(sorted(missing)), tuple(sorted(set_aside)))


def average_value_replicas(
    current: int,
    target_average: float,
    pods: list[PodSample],
    resource: str,
    now: float,
    settings: CalculatorSettings = CalculatorSettings(),
) -> Recommendation:
    """`target: {type: AverageValue, averageValue: Q}` on `resource` (calcPlainMetricReplicas).

    `utilization` is then the average usage of the sampled pods, in milli-units.
    """
    if not pods:
        raise UtilizationError("no pods returned by selector while calculating replica count")
    target = milli(target_average)
    ready, counted, set_aside, missing = _group(pods, resource, now, settings)
    usage = {p.name: milli(p.usage) for p in counted if p.usage is not None}
    if not usage:
        raise UtilizationError("did not receive metrics for any ready pods")

    def ratio_of(values: dict[str, int]) -> tuple[float, float]:
        average = sum(values.values()) / len(values)
        return average / target, average

    ratio, average = ratio_of(usage)
    rebalance = bool(set_aside) and ratio > 1.0
    if not rebalance and not missing:
        replicas = current if settings.within(ratio) else math.ceil(ratio * ready)
        return Recommendation(replicas, average, ready, (), tuple(sorted(set_aside)))
    values = dict(usage)
    # Here a ratio of exactly 1 counts as a scale-up (the HPA's `else`), unlike the Utilization case.
    values.update({name: target if ratio < 1.0 else 0 for name in missing})
    if rebalance:
        values.update({name: 0 for name in set_aside})
    new_ratio, _ = ratio_of(values)
    replicas = _guarded(current, ratio, new_ratio, len(values), settings, length_guard=False)
    return Recommendation(replicas, average, ready, tuple(sorted(missing)), tuple(sorted(set_aside)))


def _guarded(
    current: int,
    ratio: float,
    new_ratio: float,
    counted: int,
    settings: CalculatorSettings,
    *,
    length_guard: bool,
) -> int:
    """The second pass: keep the current count when the filled-in ratio is within tolerance, points the
    other way, or (Utilization only) when the count it gives moves against its own direction."""
    if settings.within(new_ratio):
        return current
    if (ratio < 1.0 < new_ratio) or (ratio > 1.0 > new_ratio):
        return current
    replicas = math.ceil(new_ratio * counted)
    if length_guard and (
        (new_ratio < 1.0 and replicas > current) or (new_ratio > 1.0 and replicas < current)
    ):
        return current
    return replicas
