"""Step `deciding.engine.decide` through simulated time: policies from dicts, observations, replica sequences.

spec = policy(maxReplicas=20, behavior={...})          # the minimal valid policy, overridden
obs = observe(0.0, current=4, load=250.0)               # one sample per keyword; None = a failed read
replicas = run(spec, [250, 250, 30, ...], start=1)      # the count after each tick, the target obeying
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from scaleplane.scaling import decisions, specs
from scaleplane.scaling.deciding import engine

TICK = 15.0


def policy(**overrides: Any) -> specs.ScalingPolicySpec:
    data: dict[str, Any] = {
        "targetRef": {"kind": "Deployment", "name": "worker"},
        "minReplicas": 1,
        "maxReplicas": 100,
        "metrics": [{"name": "load", "query": "sum(load)", "target": {"type": "AverageValue", "value": 100}}],
    }
    data.update(overrides)
    return specs.parse_policy(data)


def metric(name: str, kind: str, value: float, activation: float = 0.0) -> dict[str, Any]:
    return {
        "name": name,
        "query": f"sum({name})",
        "target": {"type": kind, "value": value},
        "activationThreshold": activation,
    }


def observe(
    at: float, current: int, ready: int | None = None, **values: float | None
) -> decisions.Observation:
    samples = tuple(
        decisions.MetricSample(name, value, None if value is not None else "query failed")
        for name, value in values.items()
    )
    return decisions.Observation(
        at=at, current_replicas=current, ready_replicas=current if ready is None else ready, samples=samples
    )


def run(
    spec: specs.ScalingPolicySpec,
    loads: Sequence[float | Mapping[str, float | None] | None],
    start: int,
    *,
    tick: float = TICK,
    t0: float = 0.0,
    state: decisions.ScalingState | None = None,
    decisions_out: list[decisions.Decision] | None = None,
) -> list[int]:
    """The replica count after each tick; a bare number is the value of the metric named `load`."""
    state = state or decisions.ScalingState()
    current = start
    sequence: list[int] = []
    for i, load in enumerate(loads):
        now = t0 + i * tick
        values = dict(load) if isinstance(load, Mapping) else {"load": load}
        decision, state = engine.decide(spec, observe(now, current, **values), state, now)
        if decision.actuate:
            current = decision.desired
        sequence.append(current)
        if decisions_out is not None:
            decisions_out.append(decision)
    return sequence
