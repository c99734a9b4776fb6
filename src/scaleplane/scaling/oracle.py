"""The oracle: the fewest replica-hours any autoscaler could spend on a trace, knowing the whole future.

The model is the simulator's (see `simulation`), on the same ticks of `tick` seconds:

- tick k needs `need[k] = clamp(ceil(demand[k] / capacity_per_replica), min, max)` READY replicas to
  serve its demand with no SLO violation (when the demand needs more than `max`, the oracle runs `max`
  and the violation is unavoidable: `slo_violation_minutes` counts those ticks);
- a replica is billed from the tick it is requested; it is ready `L = ceil(startup / tick)` ticks later;
  a replica is removed at once and billing stops;
- at the start, `need[0]` replicas are ready (the simulated policies start the same way); any replica
  beyond them must be requested L ticks before it is needed, even if that is before the trace starts
  (those ticks are billed too).

So the bill is  sum_k ready[k] + L * (number of replica starts),  minimised over ready[k] >= need[k].
Both terms split over levels j = 1, 2, ...: whether ready[k] >= j. Each level is independent: it must be
up on every tick where need[k] >= j, and between two such runs separated by a gap of g ticks it is
cheaper to keep the replica idle (g ticks) than to stop and start it again (L ticks) exactly when g <= L.
Summing the best choice per level gives the exact optimum (the classic offline result for capacity
provisioning with a linear start-up cost); `plan` computes it in O(ticks * max need).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

EPSILON = 1e-9  # demand exactly equal to capacity is served: ceil(5.000000001) must not become 6


@dataclass(frozen=True)
class OraclePlan:
    replica_hours: float
    slo_violation_minutes: float  # unavoidable: ticks whose demand needs more than maxReplicas
    scale_events: int  # ticks at which the billed count changes
    billed: tuple[int, ...]  # replicas billed (ready + starting) on each tick
    ready: tuple[int, ...]  # replicas ready on each tick


def needed(demand: float, capacity_per_replica: float) -> int:
    """The fewest ready replicas that serve `demand` (work units/s) within one tick."""
    return max(0, math.ceil(demand / capacity_per_replica - EPSILON))


def plan(
    demand: Sequence[float],
    *,
    capacity_per_replica: float,
    startup_ticks: int,
    tick_seconds: float,
    min_replicas: int,
    max_replicas: int,
) -> OraclePlan:
    raw = [needed(d, capacity_per_replica) for d in demand]
    need = [min(max_replicas, max(min_replicas, r)) for r in raw]
    ticks = len(need)
    ready = [0] * ticks
    starting = [0] * ticks
    prestarted = 0  # replica starts requested before the trace began
    top = max(need, default=0)
    for level in range(1, top + 1):
        up = [n >= level for n in need]
        runs = _runs(up)
        for index, (begin, end) in enumerate(runs):
            if index > 0:
                gap_begin = runs[index - 1][1]
                if begin - gap_begin <= startup_ticks:
                    begin = gap_begin  # bridging the gap idle costs no more than a restart
                else:
                    _start(starting, begin, startup_ticks)
            elif begin > 0:  # levels up at tick 0 are the initial replicas, already ready
                prestarted += _start(starting, begin, startup_ticks)
            for k in range(begin, end):
                ready[k] += 1
    billed = [r + s for r, s in zip(ready, starting, strict=True)]
    hours = (sum(billed) + prestarted) * tick_seconds / 3600.0
    unavoidable = sum(1 for r in raw if r > max_replicas)
    events = sum(1 for a, b in itertools.pairwise(billed) if a != b)
    return OraclePlan(
        replica_hours=hours,
        slo_violation_minutes=unavoidable * tick_seconds / 60.0,
        scale_events=events,
        billed=tuple(billed),
        ready=tuple(ready),
    )


def _runs(up: list[bool]) -> list[tuple[int, int]]:
    """Maximal [begin, end) runs of True."""
    runs: list[tuple[int, int]] = []
    begin: int | None = None
    for k, flag in enumerate(up):
        if flag and begin is None:
            begin = k
        elif not flag and begin is not None:
            runs.append((begin, k))
            begin = None
    if begin is not None:
        runs.append((begin, len(up)))
    return runs


def _start(starting: list[int], ready_at: int, startup_ticks: int) -> int:
    """Bill the start-up ticks before `ready_at`; return how many of them fall before the trace."""
    for k in range(max(0, ready_at - startup_ticks), ready_at):
        starting[k] += 1
    return max(0, startup_ticks - ready_at)
