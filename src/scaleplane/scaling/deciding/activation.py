"""Zero and back, as KEDA does it (pkg/scaling/executor/scale_scaledobjects.go), and KEDA's fallback.

    at 0 replicas        any metric > its activationThreshold  -> max(1, minReplicas)   "activated"
                         (scaleFromZero: demand -> the metrics' count, if higher, capped at maxReplicas)
                         otherwise                             -> stay at 0             "idle"
    at 1..N, minReplicas 0, every metric <= its activationThreshold, no metric failed,
                         and lastActiveAt + cooldownSeconds < now  -> 0                 "cooled_down"
    otherwise            the HPA rules apply, with a floor of max(1, minReplicas)

`lastActiveAt` is the last tick where a metric was above its activation threshold. A state that has
never seen an active metric has no `lastActiveAt`; KEDA then scales to zero at once (its
initialCooldownPeriod defaults to 0), and so does this engine.

Fallback (KEDA's `fallback`): after `failureThreshold` consecutive ticks with a failed metric, a failed
metric stops blocking: with action `replicas` it recommends `fallback.replicas` (KEDA feeds the HPA a
metric worth exactly that many replicas, so behaviours still apply); with action `hold` the count is
frozen where it is, up and down.
"""

from __future__ import annotations

from scaleplane.scaling import decisions, specs


def is_active(spec: specs.ScalingPolicySpec, observation: decisions.Observation) -> bool:
    """KEDA's IsActive: some metric read fine and is strictly above its activation threshold."""
    for metric in spec.metrics:
        if metric.is_resource:  # no pods at zero to read; as in KEDA, cpu and memory never activate
            continue
        sample = observation.sample(metric.name)
        value = sample.value if sample is not None and sample.ok else None
        if value is not None and value > metric.activation_threshold:
            return True
    return False


def wake_count(spec: specs.ScalingPolicySpec, demand: int | None) -> int:
    """What KEDA's scaleFromZeroOrIdle asks for: minReplicaCount, or 1 when that is 0.

    With `scaleFromZero: demand`, the metrics' own count when it is higher (capped at maxReplicas):
    KEDA's one replica then a tick's wait for the HPA is a cold start the burst pays for.
    """
    wake = max(1, spec.min_replicas)
    if spec.scale_from_zero == "demand" and demand is not None:
        wake = max(wake, min(demand, spec.max_replicas))
    return wake


def cooled_down(cooldown_seconds: int, last_active_at: float | None, now: float) -> bool:
    """KEDA: scale in when LastActiveTime is unset, or LastActiveTime + cooldownPeriod is before now."""
    return last_active_at is None or last_active_at + cooldown_seconds < now


def failures_after(observation_failed: bool, previous: int) -> int:
    return previous + 1 if observation_failed else 0


def fallback_due(spec: specs.ScalingPolicySpec, consecutive_failures: int) -> bool:
    return spec.fallback is not None and consecutive_failures >= spec.fallback.failure_threshold


def with_fallback(
    recommendations: tuple[decisions.MetricRecommendation, ...], replicas: int
) -> tuple[decisions.MetricRecommendation, ...]:
    """Failed metrics recommend `replicas` (KEDA's fallback.replicas); working metrics keep theirs."""
    return tuple(
        rec
        if rec.replicas is not None
        else decisions.MetricRecommendation(
            metric=rec.metric,
            value=None,
            target=rec.target,
            target_type=rec.target_type,
            replicas=replicas,
            note=f"{rec.note}; fallback to {replicas} replicas",
        )
        for rec in recommendations
    )
