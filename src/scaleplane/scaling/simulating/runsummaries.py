"""The end of a simulation whose demand came as runs: the bill, the oracle and both latency SLOs on runs.

`simulation.simulate` steps the same loop whatever form the demand has; with runs it keeps its per-tick
series (replicas, ready, backlog, the queue carried into each tick) as runs, and this module sums them
as the per-tick ending sums its lists: the replica-hours in integers (the same number), the oracle with
`oracle.plan_runs` (the same plan), the SLOs with `latencyruns.measure_runs` (the same windows; the
late work fraction to float rounding), the total work per run (to float rounding).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

from scaleplane.scaling.simulating import latencies, latencyruns, oracle, runlengths


@dataclass(frozen=True)
class Stepped:
    """What the loop left, per tick, as runs."""

    replicas: runlengths.Runs
    ready: runlengths.Runs
    backlog: runlengths.Runs  # the queue at each tick's end
    carried: runlengths.Runs  # the queue at each tick's start


@dataclass(frozen=True)
class Summary:
    replica_hours: float
    total_work: float
    latency: latencies.Measured
    oracle_latency: latencies.Measured
    oracle: oracle.OraclePlan


def summarise(
    demand: runlengths.Runs,
    stepped: Stepped,
    *,
    capacity_per_replica: float,
    startup_ticks: int,
    tick_seconds: float,
    bounds: tuple[int, int],
    slo: latencies.LatencyObjective,
    queueing: bool,
    best: oracle.OraclePlan | None,
) -> Summary:
    capacity_per_tick = capacity_per_replica * tick_seconds
    if best is None:
        planned = oracle.plan_runs(
            demand,
            capacity_per_replica=capacity_per_replica,
            startup_ticks=startup_ticks,
            tick_seconds=tick_seconds,
            min_replicas=bounds[0],
            max_replicas=bounds[1],
        )
        best_ready = planned.ready
        best = oracle.OraclePlan(
            replica_hours=planned.replica_hours,
            slo_violation_minutes=planned.slo_violation_minutes,
            scale_events=planned.scale_events,
            billed=cast(Sequence[int], runlengths.Ticks(planned.billed)),
            ready=cast(Sequence[int], runlengths.Ticks(planned.ready)),
        )
    elif isinstance(best.ready, runlengths.Ticks):
        best_ready = best.ready.runs
    else:
        best_ready = runlengths.Runs.of(best.ready)
    arrivals = runlengths.scaled(demand, tick_seconds)
    objective = {"tick_seconds": tick_seconds, "objective": slo, "queueing": queueing}
    latency = latencyruns.measure_runs(
        arrivals,
        runlengths.scaled(stepped.ready, capacity_per_tick),
        stepped.carried,
        **objective,  # type: ignore[arg-type]
    )
    oracle_queue = (
        oracle.backlog_runs(arrivals, best_ready, capacity_per_tick)
        if queueing
        else runlengths.Runs((0.0,), (demand.ticks,))
    )
    oracle_latency = latencyruns.measure_runs(
        arrivals,
        runlengths.scaled(best_ready, capacity_per_tick),
        oracle_queue,
        **objective,  # type: ignore[arg-type]
    )
    billed = sum(int(v) * n for v, n in zip(stepped.replicas.values, stepped.replicas.lengths, strict=True))
    work = sum(v * n for v, n in zip(demand.values, demand.lengths, strict=True))
    return Summary(
        replica_hours=billed * tick_seconds / 3600.0,
        total_work=work * tick_seconds,
        latency=latency,
        oracle_latency=oracle_latency,
        oracle=best,
    )
