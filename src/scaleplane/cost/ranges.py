"""The expected replica count of an autoscaled part: its policy replayed over a trace by the simulator.

A plan knows an autoscaled part's bounds (minReplicas, maxReplicas) but not where between them it will
run. Replaying the planned ScalingPolicy over a recorded load with `simulating.simulation.simulate` (the
simulator's public entry point, the same `scaleplane simulate` runs) gives its replica-hours; divided by
the trace's length that is the mean billed replica count, which prices the "expected" end of the range
(a trace of one busy week expects a month of weeks like it).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from scaleplane.scaling import specs
from scaleplane.scaling.simulating import simulation, traces


@dataclass(frozen=True)
class Expected:
    policy: str  # the ScalingPolicy resource's name in the plan
    mean_replicas: float
    peak_replicas: int
    replica_hours: float
    trace_hours: float
    slo_violation_minutes: float


def expected(
    policy: str,
    spec: Mapping[str, Any],
    trace: traces.DemandTrace,
    *,
    model: simulation.TargetModel,
    tick_seconds: float = 15.0,
) -> Expected:
    """Replay `spec` (a ScalingPolicy's spec as planned) over `trace`. Raises ValueError on a bad spec."""
    parsed = specs.parse_policy(dict(spec))
    if any(simulation.signal_for(metric, {}) == "backlog" for metric in parsed.metrics):
        # A queue-length metric stays 0 unless unserved work waits: a queue is what it measures.
        model = dataclasses.replace(model, queueing=True)
    demand = traces.resample(trace, tick_seconds)
    outcome = simulation.simulate(parsed, demand, model=model, tick_seconds=tick_seconds, name=policy)
    hours = len(demand) * tick_seconds / 3600
    return Expected(
        policy=policy,
        mean_replicas=outcome.replica_hours / hours if hours > 0 else 0.0,
        peak_replicas=outcome.peak_replicas,
        replica_hours=outcome.replica_hours,
        trace_hours=hours,
        slo_violation_minutes=outcome.slo_violation_minutes,
    )
