"""Does sweeping more of scaleplane's own knobs move its frontier below the HPA's and KEDA's? Synthetic only.

    uv run python bench/frontier_knobs.py

A family's frontier is the Pareto set of its sweep. `simulate --frontier` sweeps only the target of
each family; here the scaleplane family is also swept over two of its own knobs, each variant over the
same 12 targets: quantile sizing on (q 0.75 over 300 s, the recommended preset) or off, and a scale-down
window of one start-up time (60 s, the preset) or two (120 s); and square-root staffing (sizing.method
sqrt, beta 0.5 or 1.0) in place of quantile sizing. For each variant and for the union of all of
them (the frontier a user who may set those knobs can reach): gap_closed at the HPA default's SLO
level, how many SLO levels the HPA's and KEDA's frontiers reach where it needs more replica-hours, and
which variants' 80 % point Pareto-dominates the HPA default. The HPA-like window of 300 s is left out
on purpose: with it and no sizing the family would contain the HPA's own configuration, and "at or
below the HPA" would hold by construction, not by the engine.
Training traces only (traces/synthetic-*.csv); the real traces stay held out. Two worker processes.
"""

from __future__ import annotations

import dataclasses
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import recording
from scaleplane.scaling.simulating import frontiers, presets, simulation, traces

TRACES = Path(__file__).resolve().parents[1] / "traces"
TICK = 15.0
MODEL = simulation.TargetModel()
GRID = frontiers.DEFAULT_TARGETS
VARIANTS: dict[str, dict[str, object]] = {
    "sizing q0.75, window 60 s (preset)": {},
    "no sizing, window 60 s": {"quantile": None},
    "sizing q0.75, window 120 s": {"scale_down_window": 120},
    "no sizing, window 120 s": {"quantile": None, "scale_down_window": 120},
    "sqrt staffing beta 0.5, window 60 s": {"sizing_method": "sqrt", "beta": 0.5},
    "sqrt staffing beta 1.0, window 60 s": {"sizing_method": "sqrt", "beta": 1.0},
}


def demand_of(path: Path) -> list[float]:
    trace = traces.parse_trace(path.read_text().splitlines(), source=path.name, bucket_seconds=TICK)
    return traces.resample(trace, TICK)


def run(job: tuple[Path, str, str, float]) -> tuple[Path, str, str, frontiers.Point, float]:
    path, family, variant, target = job
    demand = demand_of(path)
    bound = frontiers.sweep_bound(demand, MODEL.capacity_per_replica, GRID)
    knobs = dataclasses.replace(presets.recommended_knobs(MODEL), **VARIANTS.get(variant, {}))  # type: ignore[arg-type]
    preset = frontiers.preset_for(family, MODEL, target, min_replicas=1, max_replicas=bound, knobs=knobs)
    outcome = simulation.simulate(preset.spec, demand, model=MODEL, sync_seconds=preset.sync_seconds)
    point = frontiers.Point(family, target, outcome.replica_hours, outcome.slo_violation_minutes)
    return path, family, variant, point, outcome.oracle.replica_hours


def main() -> None:
    paths = sorted(TRACES.glob("synthetic-*.csv"))
    jobs = [(p, f, "", t) for p in paths for f in ("hpa", "keda") for t in GRID]
    jobs += [(p, "scaleplane", v, t) for p in paths for v in VARIANTS for t in GRID]
    with ProcessPoolExecutor(2) as pool:
        done = list(pool.map(run, jobs, chunksize=4))
    lines = [
        "| trace | scaleplane family | gap_closed | levels above HPA / KEDA | 80 % point beats HPA default |",
        "|---|---|---:|---:|---|",
    ]
    for path in paths:
        rows = [r for r in done if r[0] == path]
        oracle_hours = next(r[4] for r in rows if r[1] == "hpa")
        hpa = frontiers.pareto([r[3] for r in rows if r[1] == "hpa"])
        keda = frontiers.pareto([r[3] for r in rows if r[1] == "keda"])
        default = next(r[3] for r in rows if r[1] == "hpa" and abs(r[3].target - 0.8) < 1e-9)
        level = default.slo_violation_minutes
        for name, chosen in [*((v, {v}) for v in VARIANTS), (f"union of the {len(VARIANTS)}", set(VARIANTS))]:
            mine = [r for r in rows if r[1] == "scaleplane" and r[2] in chosen]
            frontier = frontiers.pareto([r[3] for r in mine])
            gap = frontiers.gap_closed(
                frontiers.hours_at(hpa, level), frontiers.hours_at(frontier, level), oracle_hours
            )
            above = (
                f"{len(frontiers.shortfalls(frontier, hpa))} / {len(frontiers.shortfalls(frontier, keda))}"
            )
            winners = [
                f"{r[2].split(' (')[0]} ({r[3].replica_hours:.2f} h / {r[3].slo_violation_minutes:g} min)"
                for r in mine
                if abs(r[3].target - 0.8) < 1e-9
                and r[3].replica_hours <= default.replica_hours
                and r[3].slo_violation_minutes <= default.slo_violation_minutes
            ]
            lines.append(
                f"| {path.stem} (HPA default {default.replica_hours:.2f} h / {level:g} min) | {name} | "
                f"{'-' if gap is None else f'{gap:.2f}'} | {above} | {'; '.join(winners) or 'none'} |"
            )
            print(lines[-1], flush=True)
    body = (
        "The scaleplane family swept over two of its own knobs as well as its target (12 targets, 40 % to "
        "95 %), on the synthetic (training) traces only: quantile sizing on or off, scale-down window one "
        "or two start-up times, and square-root staffing (beta 0.5 or 1.0) instead of quantile sizing. "
        "'levels above' counts the SLO levels (breakpoints of either frontier) that "
        "the HPA's or KEDA's frontier reaches where scaleplane's needs more replica-hours (0: at or below "
        "throughout). The HPA's own 300 s window is not among the variants (it would make the family "
        "contain the HPA). Same model and SLO as the frontier table.\n\n" + "\n".join(lines)
    )
    recording.record("frontier-knobs", "## Sweeping scaleplane's own knobs (bench/frontier_knobs.py)", body)


if __name__ == "__main__":
    main()
