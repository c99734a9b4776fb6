"""`behavior.scaleUp` / `behavior.scaleDown`: stabilization windows and rate-limit policies, as the HPA does.

Transcribed from pkg/controller/podautoscaler/horizontal.go (Kubernetes 1.27+), keeping its arithmetic:

stabilize (stabilizeRecommendationWithBehaviors)
    up   = min(raw, every recommendation recorded in the last scaleUp.stabilizationWindowSeconds)
    down = max(raw, every recommendation recorded in the last scaleDown.stabilizationWindowSeconds)
    result = current raised to `up`, then lowered to `down`
    A recommendation counts when it is strictly newer than now - window, as Go's `After(cutoff)`.

rate limits (calculateScaleUpLimitWithScalingRules / calculateScaleDownLimitWithBehaviors)
    for each policy: start = current - replicas added + replicas removed within its periodSeconds
        scale up:   Pods -> start + value;   Percent -> ceil(start * (1 + value/100))
        scale down: Pods -> start - value;   Percent -> int(start * (1 - value/100))  (truncated)
    selectPolicy Max takes the policy allowing the biggest change, Min the smallest, Disabled forbids it.
    The limit never goes past `current` in the wrong direction, and min/maxReplicas bound the result.

Percent uses float64 exactly like Go, so 10 % of 10 replicas allows 12 (10 * 1.1 = 11.000000000000002).
An empty `policies` list (the HPA's validation would refuse it) means no rate limit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from scaleplane.scaling import records, specs

Recommendations = Sequence[tuple[float, int]]  # (at, replicas)
ScaleEvents = Sequence[tuple[float, int, int]]  # (at, replicas before, replicas after)


def stabilize(
    recommendations: Recommendations,
    raw: int,
    current: int,
    behavior: specs.Behavior,
    now: float,
) -> int:
    up_cutoff = now - behavior.scale_up.stabilization_window_seconds
    down_cutoff = now - behavior.scale_down.stabilization_window_seconds
    up = down = raw
    for at, replicas in recommendations:
        if at > up_cutoff and replicas < up:
            up = replicas
        if at > down_cutoff and replicas > down:
            down = replicas
    return min(max(current, up), down)


def changes_within(events: ScaleEvents, period_seconds: int, now: float) -> tuple[int, int]:
    """(replicas added, replicas removed) by scale events strictly newer than now - period."""
    cutoff = now - period_seconds
    added = removed = 0
    for at, before, after in events:
        if at > cutoff:
            if after > before:
                added += after - before
            else:
                removed += before - after
    return added, removed


def scale_up_limit(current: int, events: ScaleEvents, rules: specs.ScalingRules, now: float) -> int | None:
    """The most replicas the scale-up policies allow now; None when there is no policy."""
    if rules.select_policy == "Disabled":
        return current
    limit: int | None = None
    for policy in rules.policies:
        added, removed = changes_within(events, policy.period_seconds, now)
        start = current - added + removed
        if policy.type == "Pods":
            proposed = start + policy.value
        else:
            proposed = math.ceil(start * (1 + policy.value / 100))
        if limit is None:
            limit = proposed
        else:
            limit = min(limit, proposed) if rules.select_policy == "Min" else max(limit, proposed)
    return limit


def scale_down_limit(current: int, events: ScaleEvents, rules: specs.ScalingRules, now: float) -> int | None:
    """The fewest replicas the scale-down policies allow now; None when there is no policy."""
    if rules.select_policy == "Disabled":
        return current
    limit: int | None = None
    for policy in rules.policies:
        added, removed = changes_within(events, policy.period_seconds, now)
        start = current - added + removed
        proposed = start - policy.value if policy.type == "Pods" else int(start * (1 - policy.value / 100))
        if limit is None:
            limit = proposed
        else:
            limit = max(limit, proposed) if rules.select_policy == "Min" else min(limit, proposed)
    return limit


@records.quick
@dataclass(frozen=True)
class Limited:
    replicas: int
    rule: str | None  # "rate_limit", "scaling_disabled", "max_replicas", "min_replicas" or None


def limit_rate(
    desired: int,
    current: int,
    lowest: int,
    highest: int,
    events: ScaleEvents,
    behavior: specs.Behavior,
    now: float,
) -> Limited:
    """convertDesiredReplicasWithBehaviorRate: rate limits and [lowest, highest], one direction at a time."""
    rules: specs.ScalingRules
    if desired > current:
        rules = behavior.scale_up
        up = scale_up_limit(current, events, rules, now)
        if up is not None and max(up, current) < highest:
            maximum = max(up, current)
            rule = "scaling_disabled" if rules.select_policy == "Disabled" else "rate_limit"
        else:
            maximum, rule = highest, "max_replicas"
        if desired > maximum:
            return Limited(maximum, rule)
    elif desired < current:
        rules = behavior.scale_down
        down = scale_down_limit(current, events, rules, now)
        if down is not None and min(down, current) > lowest:
            minimum = min(down, current)
            rule = "scaling_disabled" if rules.select_policy == "Disabled" else "rate_limit"
        else:
            minimum, rule = lowest, "min_replicas"
        if desired < minimum:
            return Limited(minimum, rule)
    return Limited(desired, None)


def longest_window(behavior: specs.Behavior) -> int:
    return max(
        behavior.scale_up.stabilization_window_seconds, behavior.scale_down.stabilization_window_seconds
    )


def longest_period(behavior: specs.Behavior) -> int:
    periods = [p.period_seconds for p in (*behavior.scale_up.policies, *behavior.scale_down.policies)]
    return max(periods, default=0)
