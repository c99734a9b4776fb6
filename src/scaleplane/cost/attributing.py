"""What autoscaling spent and saved: replica-hours from the operator's own series, priced, against the
static alternatives and against the HPA's defaults replayed on the same recorded load.

Read from Prometheus with range queries (prometheus-api-client), over [start, end] at one step:

    max by (namespace, policy) (scaleplane_current_replicas)           what each target ran
    max by (namespace, policy, metric) (scaleplane_metric_value)       each policy metric's value

Per policy (`attribute`, pure):
- spent = replica-hours x the unit price; replica-hours = sum over steps of replicas x step (a gap in
  the series is not billed, and `covered_hours` says how much of the window had data);
- hold peak = the highest replica count seen, for the whole window; hold max = maxReplicas, likewise;
- the HPA: `presets.hpa_default(spec)` replayed by the simulator over the recorded metric read as the
  demand (units/s; a metric that reads a backlog cannot be, and the replay is skipped, naming why),
  with the policy itself replayed the same way so both SLO-violation minutes come from one model. The
  model's capacity per replica defaults to the metric's AverageValue target: what a replica is meant
  to carry.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from scaleplane.scaling import specs
from scaleplane.scaling.simulating import presets, simulation

REPLICAS = "max by (namespace, policy) (scaleplane_current_replicas)"
METRICS = "max by (namespace, policy, metric) (scaleplane_metric_value)"
MAX_POINTS = 11000  # Prometheus refuses a range query of more points per series


@dataclass(frozen=True)
class Recorded:
    namespace: str
    policy: str
    at: tuple[float, ...]  # epoch seconds, every `step`
    replicas: tuple[float, ...]
    metrics: Mapping[str, tuple[float | None, ...]]  # metric name -> value at each `at` (None: no sample)


@dataclass(frozen=True)
class Replay:
    replica_hours: float
    slo_violation_minutes: float
    replicas: tuple[int, ...]  # billed replicas per step, for the chart


@dataclass(frozen=True)
class Attribution:
    namespace: str
    policy: str
    step_seconds: float
    covered_hours: float
    replica_hours: float
    peak_replicas: float
    max_replicas: int | None
    unit_hourly_usd: float | None  # None: unpriced (counted in replica-hours only)
    price_source: str
    policy_replay: Replay | None
    hpa_replay: Replay | None
    replay_note: str  # why there is no replay, or what it assumed

    def cost(self, replica_hours: float | None) -> float | None:
        if replica_hours is None or self.unit_hourly_usd is None:
            return None
        return replica_hours * self.unit_hourly_usd

    @property
    def peak_replica_hours(self) -> float:
        return self.peak_replicas * self.covered_hours

    @property
    def max_replica_hours(self) -> float | None:
        return None if self.max_replicas is None else self.max_replicas * self.covered_hours


def step_for(span_seconds: float, wanted: float) -> float:
    return max(wanted, math.ceil(span_seconds / MAX_POINTS))


def fetch(client: Any, start: float, end: float, step: float) -> list[Recorded]:
    """The operator's series over [start, end]; `client` is a prometheus_api_client.PrometheusConnect."""
    import datetime

    def moment(at: float) -> datetime.datetime:
        return datetime.datetime.fromtimestamp(at, tz=datetime.UTC)

    def series(query: str) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = client.custom_query_range(
            query, start_time=moment(start), end_time=moment(end - step), step=f"{step:g}s"
        )
        return result

    # Each sample bills the step that starts at it, so the grid covers [start, end) and no more.
    grid = [start + i * step for i in range(int((end - start) // step))]
    metrics: dict[tuple[str, str], dict[str, tuple[float | None, ...]]] = {}
    for item in series(METRICS):
        labels = item.get("metric") or {}
        key = (labels.get("namespace", ""), labels.get("policy", ""))
        metrics.setdefault(key, {})[labels.get("metric", "")] = _on_grid(item.get("values") or [], grid)
    found = []
    for item in series(REPLICAS):
        labels = item.get("metric") or {}
        key = (labels.get("namespace", ""), labels.get("policy", ""))
        values = _on_grid(item.get("values") or [], grid)
        at = tuple(t for t, v in zip(grid, values, strict=True) if v is not None)
        kept = tuple(v for v in values if v is not None)
        picked = {
            name: tuple(v for v, r in zip(vals, values, strict=True) if r is not None)
            for name, vals in metrics.get(key, {}).items()
        }
        found.append(Recorded(key[0], key[1], at, kept, picked))
    return sorted(found, key=lambda r: (r.namespace, r.policy))


def _on_grid(values: Sequence[Sequence[Any]], grid: Sequence[float]) -> tuple[float | None, ...]:
    by_time = {round(float(t), 3): float(v) for t, v in values if v not in ("NaN", "+Inf", "-Inf")}
    return tuple(by_time.get(round(t, 3)) for t in grid)


def attribute(
    recorded: Recorded,
    step: float,
    spec: specs.ScalingPolicySpec | None,
    unit_hourly_usd: float | None,
    price_source: str,
    capacity: float | None = None,
    startup_seconds: float = 60.0,
) -> Attribution:
    hours = len(recorded.replicas) * step / 3600
    policy_replay, hpa_replay, note = _replays(recorded, step, spec, capacity, startup_seconds)
    return Attribution(
        namespace=recorded.namespace,
        policy=recorded.policy,
        step_seconds=step,
        covered_hours=hours,
        replica_hours=sum(recorded.replicas) * step / 3600,
        peak_replicas=max(recorded.replicas, default=0.0),
        max_replicas=spec.max_replicas if spec else None,
        unit_hourly_usd=unit_hourly_usd,
        price_source=price_source,
        policy_replay=policy_replay,
        hpa_replay=hpa_replay,
        replay_note=note,
    )


def _replays(
    recorded: Recorded,
    step: float,
    spec: specs.ScalingPolicySpec | None,
    capacity: float | None,
    startup: float,
) -> tuple[Replay | None, Replay | None, str]:
    if spec is None:
        return None, None, "no policy file: no HPA replay, no maxReplicas"
    if len(spec.metrics) != 1:
        return None, None, f"the HPA replay needs one metric, the policy has {len(spec.metrics)}"
    metric = spec.metrics[0]
    if metric.is_resource:
        return None, None, f"metric {metric.name!r} is a Resource metric (per-pod usage): not replayable"
    if simulation.signal_for(metric, {}) != "demand":
        return None, None, f"metric {metric.name!r} reads a backlog, not a demand rate: not replayable"
    values = recorded.metrics.get(metric.name)
    if not values or any(v is None for v in values):
        return None, None, f"metric {metric.name!r} has no recorded values at every step"
    demand = [float(v or 0.0) for v in values]
    per_replica = capacity or metric.level.value
    model = simulation.TargetModel(
        capacity_per_replica=per_replica, startup_seconds=startup, rate_window_seconds=step
    )
    ours = simulation.simulate(
        spec, demand, model=model, tick_seconds=step, name=recorded.policy, signals={metric.name: "demand"}
    )
    baseline = presets.hpa_default(spec)
    hpa = simulation.simulate(
        baseline.spec,
        demand,
        model=model,
        tick_seconds=step,
        sync_seconds=baseline.sync_seconds,
        name="hpa",
        signals={metric.name: "demand"},
    )
    note = (
        f"replayed on the recorded {metric.name!r} as demand, {per_replica:g} units/s per replica, "
        f"{startup:g} s start-up"
    )
    return (
        Replay(ours.replica_hours, ours.slo_violation_minutes, tuple(ours.timeline.replicas)),
        Replay(hpa.replica_hours, hpa.slo_violation_minutes, tuple(hpa.timeline.replicas)),
        note,
    )
