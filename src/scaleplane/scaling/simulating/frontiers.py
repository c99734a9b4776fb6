"""Cost-SLO frontiers: each autoscaler family swept over its target, compared at the HPA default's SLO level.

A family is a way of scaling (the HPA's defaults, KEDA's, scaleplane's recommended preset, the forecast
preset); its target is the fraction of a replica's capacity the demand is held at. Each (family, target)
run gives a point (replica-hours, SLO-violation minutes). Then:

- a family's frontier is its Pareto set: the points no other point of the family beats on both
  measures, sorted by SLO-violation minutes (so replica-hours fall along it);
- `hours_at(frontier, level)`: the replica-hours the family needs to stay at or under `level` SLO
  minutes, linear between the two frontier points around it (time-sharing between two settings reaches
  any point on the segment); None when even its best point violates more than `level`;
- the comparison level is the SLO minutes of the HPA default at its usual target (80 % unless told);
- gap_closed = (hpa - scaleplane) / (hpa - oracle) at that level: 0 is no better than the HPA, 1 is the
  oracle (negative: worse than the HPA); None when the HPA's frontier is already at the oracle.
- `at_budget(comparison, minutes)`: the same reading at the level a user's SLO allows (their error
  budget over the trace), and the family that needs the fewest replica-hours there. Frontiers of
  reactive autoscalers cross, so which one is cheapest depends on that level.
- `promises(comparison, points)`: the two checks docs/simulate.md makes of every sweep: the SLO levels
  where scaleplane's frontier needs more replica-hours than the HPA's or KEDA's (none: at or below
  both), and whether the recommended preset at its own target Pareto-dominates the HPA default (no
  more replica-hours and no more SLO minutes).
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from scaleplane.scaling.simulating import presets, simulation

FAMILIES = ("hpa", "keda", "scaleplane", "forecast")
DEFAULT_TARGETS = (0.40, 0.45, 0.50, 0.55, 0.60, 0.65, 0.70, 0.75, 0.80, 0.85, 0.90, 0.95)
HPA_USUAL_TARGET = 0.8  # the target the presets compare at (docs/simulate.md, "The presets")


@dataclass(frozen=True)
class Point:
    family: str
    target: float  # fraction of a replica's capacity
    replica_hours: float
    slo_violation_minutes: float
    shortfall_minutes: float = 0.0
    scale_events: int = 0

    def public(self) -> dict[str, float]:
        """The keys of `--frontier --json`'s frontier points."""
        return {
            "target": self.target,
            "replica_hours": round(self.replica_hours, 4),
            "slo_violation_minutes": round(self.slo_violation_minutes, 4),
        }


def preset_for(
    family: str,
    model: simulation.TargetModel,
    target: float,
    *,
    min_replicas: int,
    max_replicas: int,
    knobs: presets.Knobs | None = None,
) -> presets.Preset:
    """The family's policy holding the demand at `target` x a replica's capacity.

    `knobs` are scaleplane's (the recommended preset's by default); the HPA and KEDA take only the
    metric and the target from them.
    """
    knobs = dataclasses.replace(knobs or presets.recommended_knobs(model), utilization=target)
    mine = presets.recommended(model, min_replicas=min_replicas, max_replicas=max_replicas, knobs=knobs)
    if family == "hpa":
        return presets.hpa_default(mine)
    if family == "keda":
        return presets.keda_default(mine)
    if family == "scaleplane":
        return presets.Preset("scaleplane", mine, presets.HPA_SYNC_SECONDS, "scaleplane recommended")
    if family == "forecast":
        spec = presets.forecasting(model, min_replicas=min_replicas, max_replicas=max_replicas, knobs=knobs)
        return presets.Preset("forecast", spec, presets.HPA_SYNC_SECONDS, "scaleplane recommended + forecast")
    raise ValueError(f"unknown family {family!r}: expected one of {', '.join(FAMILIES)}")


def sweep_bound(demand: Sequence[float], capacity_per_replica: float, targets: Sequence[float]) -> int:
    """A maxReplicas no target of the sweep reaches: twice the peak's need at the lowest target."""
    peak = max(demand, default=0.0)
    return max(100, 2 * math.ceil(peak / (capacity_per_replica * min(targets))))


def pareto(points: Sequence[Point]) -> list[Point]:
    """The points not beaten on both measures, by SLO minutes ascending (replica-hours descending)."""
    ordered = sorted(points, key=lambda p: (p.slo_violation_minutes, p.replica_hours))
    kept: list[Point] = []
    for point in ordered:
        if not kept or point.replica_hours < kept[-1].replica_hours:
            kept.append(point)
    return kept


def hours_at(frontier: Sequence[Point], level: float) -> float | None:
    """Replica-hours to keep at most `level` SLO minutes on this frontier (linear between its points)."""
    if not frontier or frontier[0].slo_violation_minutes > level + 1e-9:
        return None
    for here, after in itertools.pairwise(frontier):
        if here.slo_violation_minutes <= level < after.slo_violation_minutes:
            share = (level - here.slo_violation_minutes) / (
                after.slo_violation_minutes - here.slo_violation_minutes
            )
            return here.replica_hours + share * (after.replica_hours - here.replica_hours)
    return frontier[-1].replica_hours


def shortfalls(mine: Sequence[Point], theirs: Sequence[Point]) -> list[float]:
    """SLO levels (breakpoints of either frontier) that `theirs` reaches where `mine` needs more hours.

    Both frontiers are piecewise linear between their points, so comparing at every breakpoint within
    the range `theirs` reaches compares them everywhere. Empty: `mine` is at or below `theirs` throughout.
    """
    if not theirs:
        return []
    lowest = theirs[0].slo_violation_minutes
    levels = sorted({p.slo_violation_minutes for p in (*mine, *theirs) if p.slo_violation_minutes >= lowest})
    worse = []
    for level in levels:
        ours, other = hours_at(mine, level), hours_at(theirs, level)
        if other is not None and (ours is None or ours > other * (1 + 1e-9) + 1e-9):
            worse.append(level)
    return worse


def gap_closed(hpa: float | None, mine: float | None, oracle: float) -> float | None:
    if hpa is None or mine is None or hpa - oracle <= 1e-9:
        return None
    return (hpa - mine) / (hpa - oracle)


def _at_level_public(minutes: float, hours: Mapping[str, float | None]) -> dict[str, Any]:
    """{"slo_violation_minutes", one key per family}: a reading at one SLO level, as --json prints it."""
    at: dict[str, Any] = {"slo_violation_minutes": round(minutes, 4)}
    for family in FAMILIES:
        value = hours.get(family)
        at[family] = None if value is None else round(value, 4)
    return at


@dataclass(frozen=True)
class Comparison:
    frontiers: Mapping[str, list[Point]]
    oracle_replica_hours: float
    hpa_default: Point
    level: float
    at_level: Mapping[str, float | None]
    gap_closed: float | None

    def public(self) -> dict[str, Any]:
        """The `--frontier --json` object's contract keys."""
        at = _at_level_public(self.level, self.at_level)
        at["gap_closed"] = None if self.gap_closed is None else round(self.gap_closed, 4)
        return {
            "frontier": {f: [p.public() for p in self.frontiers.get(f, [])] for f in FAMILIES},
            "oracle_replica_hours": round(self.oracle_replica_hours, 4),
            "at_hpa_default_slo": at,
        }


def compare(points: Sequence[Point], *, oracle_replica_hours: float, hpa_target: float) -> Comparison:
    """Frontiers per family and the comparison at the HPA default's SLO level (see the module docstring)."""
    defaults = [p for p in points if p.family == "hpa" and math.isclose(p.target, hpa_target)]
    if not defaults:
        raise ValueError(f"the sweep has no HPA run at its usual target {hpa_target:g}")
    default = defaults[0]
    frontiers = {f: pareto([p for p in points if p.family == f]) for f in FAMILIES}
    level = default.slo_violation_minutes
    at_level = {f: hours_at(frontiers[f], level) for f in FAMILIES}
    return Comparison(
        frontiers=frontiers,
        oracle_replica_hours=oracle_replica_hours,
        hpa_default=default,
        level=level,
        at_level=at_level,
        gap_closed=gap_closed(at_level["hpa"], at_level["scaleplane"], oracle_replica_hours),
    )


@dataclass(frozen=True)
class AtBudget:
    """Each family's replica-hours at a user's SLO budget (None: none of its targets gets there)."""

    slo_violation_minutes: float
    hours: Mapping[str, float | None]
    oracle_replica_hours: float

    @property
    def cheapest(self) -> str | None:
        """The family needing the fewest replica-hours at the budget (ties: the first in FAMILIES)."""
        reached = [(hours, FAMILIES.index(f), f) for f, hours in self.hours.items() if hours is not None]
        return min(reached)[2] if reached else None

    def public(self) -> dict[str, Any]:
        """The `--frontier --slo-budget --json` object's `at_slo_budget` keys."""
        at = _at_level_public(self.slo_violation_minutes, self.hours)
        at["oracle"] = round(self.oracle_replica_hours, 4)
        at["cheapest"] = self.cheapest
        return at


def at_budget(comparison: Comparison, minutes: float) -> AtBudget:
    """Every family's frontier read at `minutes` SLO-violation minutes (see the module docstring)."""
    if not minutes >= 0:
        raise ValueError(f"an SLO budget is minutes >= 0, was {minutes!r}")
    hours = {f: hours_at(comparison.frontiers.get(f, []), minutes) for f in FAMILIES}
    return AtBudget(minutes, hours, comparison.oracle_replica_hours)


@dataclass(frozen=True)
class Promises:
    """Where scaleplane's frontier is above the baselines', and if its preset dominates the HPA default."""

    above: Mapping[str, list[float]]  # "hpa", "keda" -> SLO levels where scaleplane needs more hours
    recommended: Point | None  # the scaleplane run at the recommended target; None: not in the sweep
    hpa_default: Point
    best_minutes: float | None = None  # the fewest SLO minutes a scaleplane run has (tighter: not reached)

    @property
    def frontier_at_or_below(self) -> bool:
        return not any(self.above.values())

    @property
    def dominates(self) -> bool | None:
        """The recommended run uses no more replica-hours and no more SLO minutes (None: no such run)."""
        if self.recommended is None:
            return None
        mine, default = self.recommended, self.hpa_default
        return (
            mine.replica_hours <= default.replica_hours
            and mine.slo_violation_minutes <= default.slo_violation_minutes
        )

    def public(self) -> dict[str, Any]:
        """The `--frontier --json` object's `promises` keys."""
        return {
            "frontier_above": {f: [round(level, 4) for level in levels] for f, levels in self.above.items()},
            "frontier_at_or_below": self.frontier_at_or_below,
            "recommended": None if self.recommended is None else self.recommended.public(),
            "recommended_dominates_hpa_default": self.dominates,
        }


def promises(
    comparison: Comparison,
    points: Sequence[Point],
    *,
    recommended_target: float = presets.RECOMMENDED_UTILIZATION,
) -> Promises:
    """Both checks on one sweep (see the module docstring)."""
    mine = comparison.frontiers.get("scaleplane", [])
    above = {f: shortfalls(mine, comparison.frontiers.get(f, [])) for f in ("hpa", "keda")}
    recommended = next(
        (p for p in points if p.family == "scaleplane" and math.isclose(p.target, recommended_target)), None
    )
    best = mine[0].slo_violation_minutes if mine else None
    return Promises(
        above=above, recommended=recommended, hpa_default=comparison.hpa_default, best_minutes=best
    )
