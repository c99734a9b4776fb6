"""Square-root staffing on every trace, the held-out ones included: does the knob hold up on load it was
never looked at with?

    uv run python bench/frontier_sqrt.py            # every trace, two worker processes (about a minute)
    uv run python bench/frontier_sqrt.py --quick    # no WorldCup98 week (30 s; prints, records nothing)

`sizing.method: sqrt` (beta x sqrt(n) spare replicas, docs/engine.md) was tried on the training traces
only (bench/tune_frontier.py, bench/frontier_knobs.py) and is not the recommended preset. This is its
check on every trace of the frontier table (bench/frontier_traces.py), with the same model, SLO, grid
and HPA-default level: the scaleplane family as shipped (stdev sizing), and the same family with
square-root staffing at beta 0.5 and 1.0 in its place. Per family: replica-hours at the HPA default's
SLO level, gap_closed, how many SLO levels the HPA's / KEDA's frontier reaches where it needs more
(0 / 0: at or below throughout), and whether its 80 % point Pareto-dominates the HPA default.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import recording
from bench.frontier_traces import WORLDCUP, series
from bench.tune_frontier import oracle_hours, sweep
from scaleplane.scaling.simulating import frontiers, presets, simulation

MODEL = simulation.TargetModel()
# (column, family, knobs changed from the recommended preset's)
FAMILIES: tuple[tuple[str, str, dict[str, object]], ...] = (
    ("hpa", "hpa", {}),
    ("keda", "keda", {}),
    ("stdev (preset)", "scaleplane", {}),
    ("sqrt beta 0.5", "scaleplane", {"sizing_method": "sqrt", "beta": 0.5}),
    ("sqrt beta 1.0", "scaleplane", {"sizing_method": "sqrt", "beta": 1.0}),
)
SCALEPLANE = [column for column, family, _ in FAMILIES if family == "scaleplane"]


def run(job: tuple[int, str, list[float], float]) -> list[tuple[int, frontiers.Point]]:
    """One column's sweep over the grid on one trace (tune_frontier's sweep), its points named after it."""
    row, column, demand, start = job
    family, changes = next((f, c) for name, f, c in FAMILIES if name == column)
    knobs = dataclasses.replace(presets.recommended_knobs(MODEL), **changes)  # type: ignore[arg-type]
    return [(row, dataclasses.replace(p, family=column)) for p in sweep(family, knobs, demand, start)]


def cells(points: list[frontiers.Point], oracle_h: float) -> list[str]:
    """The row's cells: per scaleplane column 'hours at level / gap_closed / levels above / dominates'."""
    by = {column: [p for p in points if p.family == column] for column, _, _ in FAMILIES}
    hpa, keda = frontiers.pareto(by["hpa"]), frontiers.pareto(by["keda"])
    default = next(p for p in by["hpa"] if abs(p.target - frontiers.HPA_USUAL_TARGET) < 1e-9)
    level = default.slo_violation_minutes
    out = [f"{default.replica_hours:.2f} / {level:g}", f"{frontiers.hours_at(hpa, level):.2f}"]
    for column in SCALEPLANE:
        mine = frontiers.pareto(by[column])
        hours = frontiers.hours_at(mine, level)
        gap = frontiers.gap_closed(frontiers.hours_at(hpa, level), hours, oracle_h)
        above = f"{len(frontiers.shortfalls(mine, hpa))} / {len(frontiers.shortfalls(mine, keda))}"
        ours = next(p for p in by[column] if abs(p.target - presets.RECOMMENDED_UTILIZATION) < 1e-9)
        wins = ours.replica_hours <= default.replica_hours and ours.slo_violation_minutes <= level
        out.append(
            f"{'-' if hours is None else f'{hours:.2f}'} / {'-' if gap is None else f'{gap:.2f}'} / "
            f"{above} / {'yes' if wins else 'no'}"
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="leave the WorldCup98 week out")
    args = parser.parse_args()
    rows = [r for r in series() if not (args.quick and r[0].startswith(f"{WORLDCUP} ("))]
    jobs = [
        (i, column, demand, start) for i, (_, demand, start) in enumerate(rows) for column, _, _ in FAMILIES
    ]
    with ProcessPoolExecutor(max_workers=2) as pool:
        done = [found for points in pool.map(run, jobs) for found in points]
        oracles = list(pool.map(oracle_hours, [demand for _, demand, _ in rows]))
    header = " | ".join(SCALEPLANE)
    lines = [
        f"| trace | HPA default (0.8): replica-h / SLO min | hpa at that level | {header} |",
        "|---|---:|---:|" + "---:|" * len(SCALEPLANE),
    ]
    for i, (name, _, _) in enumerate(rows):
        points = [p for row, p in done if row == i]
        lines.append(f"| {name} | {' | '.join(cells(points, oracles[i]))} |")
        print(lines[-1], flush=True)
    if args.quick:  # a partial table must not replace the recorded one
        return
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    body = (
        "Square-root staffing (sizing.method sqrt) against the shipped sizing (stdev, q 0.75 over 300 s) on "
        "every trace, the held-out ones (Azure, WorldCup98's last four days) included. Each scaleplane "
        "cell: replica-hours at the HPA default's SLO level / gap_closed / SLO levels where the HPA's / "
        "KEDA's frontier needs fewer replica-hours (0 / 0: at or below throughout) / whether the 80 % "
        "point Pareto-dominates the HPA default. Same model, SLO and 12-target grid as the frontier table; "
        f"load average at the end {load} on 2 cores.\n\n" + "\n".join(lines)
    )
    recording.record("frontier-sqrt", "## Square-root staffing on every trace (bench/frontier_sqrt.py)", body)


if __name__ == "__main__":
    main()
