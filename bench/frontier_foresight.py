"""How much of the HPA-to-oracle gap could foresight close? The recommended family told the future.

    uv run python bench/frontier_foresight.py            # every trace, two worker processes
    uv run python bench/frontier_foresight.py --quick    # without the WorldCup98 week (about 1 min)

The issue's goal is gap_closed >= 0.5 on the real traces. This measures what that asks of an online
controller. The scaleplane family (the recommended preset's knobs, 12 targets from 40 % to 95 %) runs
five times per trace:
  - as shipped: the engine reads the 1-minute rate, as in `scaleplane simulate --frontier`;
  - reads the last 15 s: each tick, every reading is raised to the demand of the tick before (what a
    second query of the same counter over [15s] would add: the panic window of Knative, attainable);
  - told the present: each tick, every reading is raised to the demand of the tick itself, the 15 s
    that begin at the decision (no rate window, no lag; on a trace of per-minute counts such as
    WorldCup98's, a quarter of those ticks already hold the next minute's step);
  - told the next minute / the next 2 minutes: raised to the highest demand of the coming 4 / 8 ticks,
    which no forecast can know better (a perfect forecast of the peak over the start-up time and more).
Everything else is the engine as shipped: start-up, sync period, stabilization, rate limits, queueing
and the SLO. The HPA and KEDA frontiers and the oracle are `scaleplane simulate --frontier`'s. A told
family is a bound, not a policy: it reads the trace's future, so it is here and nowhere in src/ (the
last-15-s family reads only the past: it is what a panic window of that length could add).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import recording
from bench.frontier_traces import WORLDCUP, series
from scaleplane.scaling import decisions, specs
from scaleplane.scaling.deciding import engine
from scaleplane.scaling.simulating import frontiers, oracle, presets, simulation

TICK = 15.0
MODEL = simulation.TargetModel()
# (column, the ticks [now - behind, now + ahead] whose highest demand the engine is told, as
# (behind, ahead): None as shipped, (1, -1) the tick before only, (0, 0) the present tick only)
VARIANTS = (
    ("as shipped", None),
    ("reads the last 15 s", (1, -1)),
    ("told the present", (0, 0)),
    ("told 1 min", (0, 4)),
    ("told 2 min", (0, 8)),
)


@dataclasses.dataclass(frozen=True)
class Told:
    """engine.decide, each reading raised to the highest demand over ticks [now - behind, now + ahead]."""

    demand: Sequence[float]
    start: float
    ahead: int
    behind: int = 0

    def __call__(
        self,
        spec: specs.ScalingPolicySpec,
        observation: decisions.Observation,
        state: decisions.ScalingState,
        now: float,
    ) -> tuple[decisions.Decision, decisions.ScalingState]:
        tick = round((now - self.start) / TICK)
        peak = max(self.demand[max(0, tick - self.behind) : tick + self.ahead + 1], default=0.0)
        samples = tuple(
            s if s.value is None else dataclasses.replace(s, value=max(s.value, peak))
            for s in observation.samples
        )
        return engine.decide(spec, dataclasses.replace(observation, samples=samples), state, now)


def sweep(job: tuple[str, tuple[int, int] | None, list[float], float]) -> list[frontiers.Point]:
    family, told_ticks, demand, start = job
    bound = frontiers.sweep_bound(demand, MODEL.capacity_per_replica, frontiers.DEFAULT_TARGETS)
    knobs = presets.recommended_knobs(MODEL)
    points = []
    for target in sorted({*frontiers.DEFAULT_TARGETS, presets.RECOMMENDED_UTILIZATION}):
        preset = frontiers.preset_for(family, MODEL, target, min_replicas=1, max_replicas=bound, knobs=knobs)
        # A told run is not a fixed point where the load is flat (the future changes first): step every tick.
        told: dict[str, Any] = {}
        if told_ticks is not None:
            behind, ahead = told_ticks
            told = {"decide": Told(demand, start, ahead, behind), "skip": False}
        outcome = simulation.simulate(
            preset.spec, demand, model=MODEL, tick_seconds=TICK, sync_seconds=preset.sync_seconds,
            start=start, **told,
        )  # fmt: skip
        points.append(frontiers.Point(family, target, outcome.replica_hours, outcome.slo_violation_minutes))
    return points


def oracle_hours(demand: list[float]) -> float:
    bound = frontiers.sweep_bound(demand, MODEL.capacity_per_replica, frontiers.DEFAULT_TARGETS)
    plan = oracle.plan(
        demand, capacity_per_replica=MODEL.capacity_per_replica, startup_ticks=MODEL.startup_ticks(TICK),
        tick_seconds=TICK, min_replicas=1, max_replicas=bound,
    )  # fmt: skip
    return plan.replica_hours


def where_above(comparison: frontiers.Comparison, points: Sequence[frontiers.Point]) -> str:
    """'' when the family's frontier is at or below the HPA's and KEDA's; else ' (above ...)' with the
    levels of `frontiers.promises` split by where they lie against the family's own runs: tighter than
    its best run (not reached), within its runs' range, or looser than its loosest (cheapest) run, where
    a baseline's cheap high-target runs violate more than any run of this family does and the comparison
    is with that cheapest run.
    """
    checked = frontiers.promises(comparison, points)
    levels = sorted({level for found in checked.above.values() for level in found})
    if not levels:
        return ""
    mine = comparison.frontiers["scaleplane"]
    best, loosest = mine[0].slo_violation_minutes, mine[-1].slo_violation_minutes
    groups = (
        ("at {} min", [v for v in levels if best <= v <= loosest]),
        (f"tighter than its best run ({best:g} min), at {{}}", [v for v in levels if v < best]),
        (f"looser than its loosest run ({loosest:g} min), at {{}}", [v for v in levels if v > loosest]),
    )
    said = [label.format(", ".join(f"{v:g}" for v in group)) for label, group in groups if group]
    return f" (above {'; '.join(said)})"


def row(name: str, demand: list[float], sweeps: list[list[frontiers.Point]]) -> str:
    hpa, keda, *told = sweeps
    oracle_h = oracle_hours(demand)
    cells = []
    for points in told:
        comparison = frontiers.compare([*points, *hpa, *keda], oracle_replica_hours=oracle_h, hpa_target=0.8)
        gap = "-" if comparison.gap_closed is None else f"{comparison.gap_closed:.2f}"
        cells.append(gap + where_above(comparison, points))
    default = next(p for p in hpa if p.target == frontiers.HPA_USUAL_TARGET)
    return (
        f"| {name} | {default.replica_hours:.2f} / {default.slo_violation_minutes:g} | {oracle_h:.2f} | "
        + " | ".join(cells)
        + " |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="leave out the WorldCup98 week (not its days 4-7)"
    )
    args = parser.parse_args()
    rows = [r for r in series() if not (args.quick and r[0].startswith(f"{WORLDCUP} ("))]
    jobs = [
        (family, told, demand, start)
        for _, demand, start in rows
        for family, told in (("hpa", None), ("keda", None), *(("scaleplane", a) for _, a in VARIANTS))
    ]
    per_row = 2 + len(VARIANTS)
    lines = [
        "| trace | HPA default (0.8): replica-h / SLO min | oracle replica-h | "
        + " | ".join(f"gap_closed {label}" for label, _ in VARIANTS)
        + " |",
        "|---|---:|---:|" + "---:|" * len(VARIANTS),
    ]
    with ProcessPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(sweep, jobs))
    for i, (name, demand, _) in enumerate(rows):
        lines.append(row(name, demand, results[i * per_row : (i + 1) * per_row]))
        print(lines[-1], flush=True)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    body = (
        "What foresight is worth on the frontier: gap_closed at the HPA default's SLO level (as in the "
        "frontier table) for the scaleplane family as shipped, and for the same family with each reading "
        "raised to the demand of the tick before (the last 15 s: attainable, a second query over [15s]), "
        "to the trace's true demand of the present tick (the 15 s that begin at the decision), or to its "
        "peak over the next 1 or 2 minutes (4 or 8 ticks of 15 s; the start-up time is 60 s). '(above ...)': "
        "the SLO minutes where that family's frontier is still above the HPA's or KEDA's, split into "
        "those within its runs' range ('at'), those tighter than its best run (it does not reach them) "
        "and those looser than its loosest run (the baselines' cheapest runs violate more than any of "
        "its runs, so there it is compared with its cheapest run). A told "
        "family reads the future, so it bounds what any forecast could add to this engine; it is not a "
        "policy. Same model, SLO and "
        "grid as the frontier table"
        + (" (the WorldCup98 week left out: --quick)" if args.quick else "")
        + f"; load average at the end {load} on 2 cores.\n\n"
        + "\n".join(lines)
    )
    recording.record("frontier-foresight", "## What foresight is worth (bench/frontier_foresight.py)", body)


if __name__ == "__main__":
    main()
