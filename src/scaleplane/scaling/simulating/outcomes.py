"""What a simulation gives back (per-tick timelines and the measured outcome of one run), and its tally.

`simulation.simulate` steps the ticks and records, per tick, the billed and ready replicas and the
queue at each tick's end and start (`Recorded`); `tally` turns that into the Outcome: the bill, the
oracle's plan and both latency SLOs (`latencies.measure` on lists, `runsummaries.summarise` on runs,
when the demand came as runs). The metrics are defined in `simulation`'s docstring.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from scaleplane.scaling.simulating import fleets, latencies, oracle, runlengths, runsummaries


@dataclass(frozen=True)
class Timeline:
    """Per tick: the offset (s from the trace's start), demand (units/s), billed and ready replicas.

    Tuples, or read-only run views (simulating.runlengths.Ticks) when the demand came as runs: both index,
    slice, iterate and measure `len` per tick.
    """

    at: Sequence[float]
    demand: Sequence[float]
    replicas: Sequence[int]
    ready: Sequence[int]
    backlog: Sequence[float]


@dataclass(frozen=True)
class Outcome:
    name: str
    replica_hours: float
    slo_violation_minutes: float
    scale_events: int
    overload_work_fraction: float
    peak_replicas: int
    oracle: oracle.OraclePlan
    timeline: Timeline
    reasons: Mapping[str, int] = field(default_factory=dict)
    shortfall_minutes: float = 0.0
    late_work_fraction: float = 0.0
    oracle_slo_violation_minutes: float = 0.0

    def summary(self) -> dict[str, Any]:
        """The public JSON keys of `scaleplane simulate --json` for one run."""
        return {
            "name": self.name,
            "replica_hours": round(self.replica_hours, 4),
            "slo_violation_minutes": round(self.slo_violation_minutes, 4),
            "oracle_replica_hours": round(self.oracle.replica_hours, 4),
            "oracle_ratio": round(self.replica_hours / self.oracle.replica_hours, 4)
            if self.oracle.replica_hours > 0
            else None,
            "oracle_slo_violation_minutes": round(self.oracle_slo_violation_minutes, 4),
            "shortfall_minutes": round(self.shortfall_minutes, 4),
            "oracle_shortfall_minutes": round(self.oracle.slo_violation_minutes, 4),
            "scale_events": self.scale_events,
            "overload_work_fraction": round(self.overload_work_fraction, 6),
            "late_work_fraction": round(self.late_work_fraction, 6),
            "peak_replicas": self.peak_replicas,
            "decision_reasons": dict(sorted(self.reasons.items())),
        }


@dataclass(frozen=True)
class Recorded:
    """What the loop recorded: per tick (lists, or runs when the demand came as runs), and in sum."""

    replicas: list[int] | runlengths.Builder  # billed
    ready: list[int] | runlengths.Builder
    backlog: list[float] | runlengths.Builder  # the queue at each tick's end
    carried: list[float] | runlengths.Builder  # the queue at each tick's start
    initial: int  # the replicas before the first tick
    violated: int  # ticks whose work was more than their capacity
    overload: float  # the sum over ticks of max(0, arrivals - capacity)
    reasons: Mapping[str, int]  # sync ticks per decision reason


def tally(
    recorded: Recorded,
    demand: Sequence[float],
    runs: runlengths.Runs | None,
    *,
    name: str,
    model: fleets.TargetModel,
    tick_seconds: float,
    bounds: tuple[int, int],
    slo: latencies.LatencyObjective,
    best: oracle.OraclePlan | None,
) -> Outcome:
    """The Outcome of one run over `demand` (per tick; `runs` too when it came as runs)."""
    if runs is not None:
        return _of_runs(recorded, demand, runs, name, model, tick_seconds, bounds, slo, best)
    return _of_ticks(recorded, demand, name, model, tick_seconds, bounds, slo, best)


def _of_runs(
    recorded: Recorded,
    demand: Sequence[float],
    runs: runlengths.Runs,
    name: str,
    model: fleets.TargetModel,
    tick_seconds: float,
    bounds: tuple[int, int],
    slo: latencies.LatencyObjective,
    best: oracle.OraclePlan | None,
) -> Outcome:
    replicas, ready, backlog, carried = recorded.replicas, recorded.ready, recorded.backlog, recorded.carried
    assert isinstance(replicas, runlengths.Builder) and isinstance(ready, runlengths.Builder)
    assert isinstance(backlog, runlengths.Builder) and isinstance(carried, runlengths.Builder)
    ran = runsummaries.Stepped(replicas.runs(), ready.runs(), backlog.runs(), carried.runs())
    summary = runsummaries.summarise(
        runs,
        ran,
        capacity_per_replica=model.capacity_per_replica,
        startup_ticks=model.startup_ticks(tick_seconds),
        tick_seconds=tick_seconds,
        bounds=bounds,
        slo=slo,
        queueing=model.queueing,
        best=best,
    )
    total = summary.total_work
    return Outcome(
        name=name,
        replica_hours=summary.replica_hours,
        slo_violation_minutes=summary.latency.violation_minutes,
        shortfall_minutes=recorded.violated * tick_seconds / 60.0,
        late_work_fraction=summary.latency.late_work_fraction,
        oracle_slo_violation_minutes=summary.oracle_latency.violation_minutes,
        scale_events=len(ran.replicas.values) - 1 + (1 if ran.replicas.values[0] != recorded.initial else 0),
        overload_work_fraction=recorded.overload / total if total > 0 else 0.0,
        peak_replicas=int(max(ran.replicas.values)),
        oracle=summary.oracle,
        timeline=Timeline(
            at=runlengths.Steps(len(demand), tick_seconds),
            demand=demand,
            replicas=cast(Sequence[int], runlengths.Ticks(ran.replicas)),
            ready=cast(Sequence[int], runlengths.Ticks(ran.ready)),
            backlog=runlengths.Ticks(ran.backlog),
        ),
        reasons=dict(recorded.reasons),
    )


def _of_ticks(
    recorded: Recorded,
    demand: Sequence[float],
    name: str,
    model: fleets.TargetModel,
    tick_seconds: float,
    bounds: tuple[int, int],
    slo: latencies.LatencyObjective,
    best: oracle.OraclePlan | None,
) -> Outcome:
    replicas, ready, backlog, carried = recorded.replicas, recorded.ready, recorded.backlog, recorded.carried
    assert isinstance(replicas, list) and isinstance(ready, list)
    assert isinstance(backlog, list) and isinstance(carried, list)
    capacity_per_tick = model.capacity_per_replica * tick_seconds
    total = sum(demand) * tick_seconds
    if best is None:
        best = oracle.plan(
            demand,
            capacity_per_replica=model.capacity_per_replica,
            startup_ticks=model.startup_ticks(tick_seconds),
            tick_seconds=tick_seconds,
            min_replicas=bounds[0],
            max_replicas=bounds[1],
        )
    arrivals = [d * tick_seconds for d in demand]
    latency = latencies.measure(
        arrivals,
        [r * capacity_per_tick for r in ready],
        carried,
        tick_seconds=tick_seconds,
        objective=slo,
        queueing=model.queueing,
    )
    oracle_latency = latencies.measure(
        arrivals,
        [r * capacity_per_tick for r in best.ready],
        oracle.backlog(arrivals, best.ready, capacity_per_tick) if model.queueing else [0.0] * len(demand),
        tick_seconds=tick_seconds,
        objective=slo,
        queueing=model.queueing,
    )
    return Outcome(
        name=name,
        replica_hours=sum(replicas) * tick_seconds / 3600.0,
        slo_violation_minutes=latency.violation_minutes,
        shortfall_minutes=recorded.violated * tick_seconds / 60.0,
        late_work_fraction=latency.late_work_fraction,
        oracle_slo_violation_minutes=oracle_latency.violation_minutes,
        scale_events=sum(1 for a, b in itertools.pairwise(replicas) if a != b)
        + (1 if replicas and replicas[0] != recorded.initial else 0),
        overload_work_fraction=recorded.overload / total if total > 0 else 0.0,
        peak_replicas=max(replicas),
        oracle=best,
        timeline=Timeline(
            at=tuple(k * tick_seconds for k in range(len(demand))),
            demand=tuple(demand),
            replicas=tuple(replicas),
            ready=tuple(ready),
            backlog=tuple(backlog),
        ),
        reasons=dict(recorded.reasons),
    )
