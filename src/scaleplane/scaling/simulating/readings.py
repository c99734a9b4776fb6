"""What the simulated controller reads: which signal each metric is wired to, and the modelled pods.

See `simulation` (step 1 of its model) for the signals; a Resource metric reads pods whose busyness is
the share of their capacity the work used.
"""

from __future__ import annotations

from collections.abc import Mapping

from scaleplane.inputs import durations
from scaleplane.scaling import decisions, specs
from scaleplane.scaling.deciding import utilization
from scaleplane.scaling.simulating import fleets

BACKLOG_WORDS = ("queue", "backlog", "depth", "lag", "pending")
SIGNALS = ("demand", "backlog", "resource")
# A modelled pod's requests: Utilization does not depend on them; AverageValue targets are read against
# them (a pod busy half the time uses 500m of CPU, or 512Mi of memory).
REQUESTS = {"cpu": 1.0, "memory": float(2**30)}


def signal_for(metric: specs.MetricSpec, signals: Mapping[str, str]) -> str:
    if metric.is_resource:
        return "resource"
    if metric.name in signals:
        return signals[metric.name]
    text = f"{metric.name} {metric.query}".lower()
    return "backlog" if any(word in text for word in BACKLOG_WORDS) else "demand"


def window_of(metric: specs.MetricSpec, default_seconds: float) -> float:
    """The range of the query's first range selector (`rate(x[2m])` -> 120 s), else the default."""
    if metric.query is None:  # a Resource metric: the pods' usage is read over the model's window
        return default_seconds
    try:
        found = durations.first_range(metric.query)
    except durations.DurationError as exc:  # refused by name, never read as the default window
        raise ValueError(f"metric {metric.name!r}: {exc}") from None
    return default_seconds if found is None else found


def pod_samples(
    spec: specs.ScalingPolicySpec, name: str, fleet: fleets.Fleet, busy: float, now: float, window: float
) -> decisions.MetricSample:
    """The modelled pods of a Resource metric: every ready pod uses `busy` of its request (the work
    is spread evenly), settled long ago; pods still starting are Pending (set aside)."""
    metric = next(m for m in spec.metrics if m.name == name)
    assert metric.resource is not None  # only Resource metrics are wired to "resource"
    request = REQUESTS[metric.resource.name]
    settled = now - 3600.0
    ready = [
        utilization.PodSample(
            f"pod-{i}",
            ready_since=settled,
            started_at=settled,
            request=request,
            usage=busy * request,
            sampled_at=now,
            window=window,
        )
        for i in range(fleet.ready)
    ]
    starting = [
        utilization.PodSample(f"starting-{i}", phase="Pending", request=request, started_at=now)
        for i in range(fleet.billed - fleet.ready)
    ]
    return decisions.MetricSample(name, None, None, tuple(ready + starting))
