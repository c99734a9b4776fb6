"""Choose scaleplane's engine knobs on the training traces' frontiers; the held-out traces are never read.

    uv run python bench/tune_frontier.py            # the candidates below, on 2 processes

Training set: traces/synthetic-*.csv (diurnal, flash crowd, noisy, ramp, sparse) and the FIRST THREE DAYS
of ../shared/traces/worldcup98-1998-06-08-week.csv (t < 259200 s, when that folder is there). Held out,
never read here: the Azure LLM trace (traces/ and ../shared/traces) and WorldCup98's last four days (the
check is bench/frontier_traces.py, which reports them as their own rows). For each candidate, the
scaleplane family is swept over the targets on every training trace against the HPA-default and KEDA
sweeps, and scored by:
  1. how many traces the recommended preset (at the candidate's own target) does NOT Pareto-dominate the
     HPA default (target 0.8) on,
  2. how many traces its frontier is above the HPA's or KEDA's at some level they reach,
  3. the mean gap_closed at the HPA default's SLO level (higher is better).
Lexicographically: a candidate that breaks a promise on fewer traces wins before any saving counts.
"""

from __future__ import annotations

import dataclasses
import itertools
import statistics
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import recording
from scaleplane.scaling.simulating import frontiers, oracle, presets, simulation, traces

ROOT = Path(__file__).resolve().parents[1]
TRACES = ROOT / "traces"
# ../shared/traces from the main checkout (/work/main), or from a worktree one level deeper
SHARED = (
    next((p for p in (ROOT.parent / "shared", ROOT.parents[1] / "shared") if p.is_dir()), ROOT) / "traces"
)
WORLDCUP = "worldcup98-1998-06-08-week"
TRAINING_SECONDS = 3 * 86400  # WorldCup98: the first three days train, the last four are held out
TICK = 15.0
MODEL = simulation.TargetModel()
# (name, knobs changed from the recommended preset's): the sizing method and its settings, the target,
# the scale-down window (one or three start-up times). The stdev row is the previous preset's sizing.
SIZINGS = {
    "stdev q0.75 300 s": {"sizing_method": "stdev", "quantile": 0.75, "sizing_window": 300},
    "rise q0.9 1800 s": {"sizing_method": "rise", "quantile": 0.9, "sizing_window": 1800},
    "rise q0.95 1800 s": {"sizing_method": "rise", "quantile": 0.95, "sizing_window": 1800},
    "rise q0.99 7200 s": {"sizing_method": "rise", "quantile": 0.99, "sizing_window": 7200},
    # square-root staffing: beta x sqrt(n) spare replicas over the n the reading needs (no history)
    "sqrt beta 0.5": {"sizing_method": "sqrt", "beta": 0.5},
    "sqrt beta 1.0": {"sizing_method": "sqrt", "beta": 1.0},
}
GRID = {"utilization": (0.8, 0.9), "scale_down_window": (60, 180)}
# One change at a time to the recommended preset, for the engine's other public knobs: a burst mode
# (Knative's panic window), a narrower scale-up band, and scale-down paced by a rate limit.
ONE_CHANGE = {
    "burst 2.0 x, hold 300 s": {"burst_threshold": 2.0, "burst_hold": 300},
    "burst 1.3 x, hold 180 s": {"burst_threshold": 1.3, "burst_hold": 180},
    "scale-up tolerance 0": {"scale_up_tolerance": 0.0},
    "scale-up tolerance 0.05": {"scale_up_tolerance": 0.05},
    "scale-down 10 % per minute": {"scale_down_percent": 10},
    "scale-down 50 % per minute": {"scale_down_percent": 50},
}
ERROR_QUANTILES = (None, 0.3)  # the forecast preset's forecast.errorQuantile, on the recommended knobs


def training() -> dict[str, tuple[list[float], float]]:
    series = {}
    for path in sorted(TRACES.glob("synthetic-*.csv")):
        trace = traces.parse_trace(path.read_text().splitlines(), source=path.name, bucket_seconds=TICK)
        series[path.stem] = (traces.resample(trace, TICK), trace.start)
    worldcup = SHARED / f"{WORLDCUP}.csv"
    if worldcup.is_file():
        trace = traces.parse_trace(
            worldcup.read_text().splitlines(), source=worldcup.name, bucket_seconds=TICK
        )
        demand = traces.resample(trace, TICK)
        series[f"{WORLDCUP} days 1-3"] = (demand[: round(TRAINING_SECONDS / TICK)], trace.start)
    return series


def sweep(family: str, knobs: presets.Knobs, demand: list[float], start: float) -> list[frontiers.Point]:
    bound = frontiers.sweep_bound(demand, MODEL.capacity_per_replica, frontiers.DEFAULT_TARGETS)
    points = []
    for target in sorted({*frontiers.DEFAULT_TARGETS, knobs.utilization}):
        preset = frontiers.preset_for(family, MODEL, target, min_replicas=1, max_replicas=bound, knobs=knobs)
        outcome = simulation.simulate(
            preset.spec, demand, model=MODEL, tick_seconds=TICK, sync_seconds=preset.sync_seconds, start=start
        )
        points.append(frontiers.Point(family, target, outcome.replica_hours, outcome.slo_violation_minutes))
    return points


def oracle_hours(demand: list[float]) -> float:
    bound = frontiers.sweep_bound(demand, MODEL.capacity_per_replica, frontiers.DEFAULT_TARGETS)
    return oracle.plan(
        demand,
        capacity_per_replica=MODEL.capacity_per_replica,
        startup_ticks=MODEL.startup_ticks(TICK),
        tick_seconds=TICK,
        min_replicas=1,
        max_replicas=bound,
    ).replica_hours


def score(knobs: presets.Knobs, series: dict[str, tuple[list[float], float]], baselines: dict) -> tuple:
    broken_default = broken_frontier = 0
    gaps = []
    for name, (demand, start) in series.items():
        mine = sweep("scaleplane", knobs, demand, start)
        hpa, keda, oracle_h = baselines[name]
        comparison = frontiers.compare([*mine, *hpa, *keda], oracle_replica_hours=oracle_h, hpa_target=0.8)
        default = comparison.hpa_default
        ours = next(p for p in mine if abs(p.target - knobs.utilization) < 1e-9)
        if not (
            ours.replica_hours <= default.replica_hours
            and ours.slo_violation_minutes <= default.slo_violation_minutes
        ):
            broken_default += 1
        mine_front = comparison.frontiers["scaleplane"]
        if frontiers.shortfalls(mine_front, comparison.frontiers["hpa"]) or frontiers.shortfalls(
            mine_front, comparison.frontiers["keda"]
        ):
            broken_frontier += 1
        gaps.append(comparison.gap_closed if comparison.gap_closed is not None else 0.0)
    return broken_default, broken_frontier, statistics.mean(gaps), [round(g, 2) for g in gaps]


def _sizing_name(knobs: presets.Knobs) -> str:
    if knobs.sizing_method == "sqrt":
        return f"sqrt beta {knobs.beta}"
    return f"{knobs.sizing_method} q{knobs.quantile} {knobs.sizing_window} s"


def _forecast_gap(args: tuple) -> tuple:
    quantile, name, series, baselines = args
    demand, start = series[name]
    knobs = dataclasses.replace(presets.recommended_knobs(MODEL), error_quantile=quantile)
    hpa, _, oracle_h = baselines[name]
    mine = sweep("forecast", knobs, demand, start)
    comparison = frontiers.compare([*mine, *hpa], oracle_replica_hours=oracle_h, hpa_target=0.8)
    at = comparison.at_level
    return quantile, name, frontiers.gap_closed(at["hpa"], at["forecast"], oracle_h)


def _evaluate(args: tuple) -> tuple:
    knobs, change, series, baselines = args
    return (*score(knobs, series, baselines), knobs, change)


def main() -> None:
    series = training()
    base = presets.Knobs()
    baselines = {
        name: (sweep("hpa", base, d, s), sweep("keda", base, d, s), oracle_hours(d))
        for name, (d, s) in series.items()
    }
    recommended = presets.recommended_knobs(MODEL)
    candidates = [
        (dataclasses.replace(recommended, **sizing, **dict(zip(GRID, values, strict=True))), "")
        for sizing in SIZINGS.values()
        for values in itertools.product(*GRID.values())
    ]
    candidates += [(dataclasses.replace(recommended, **c), name) for name, c in ONE_CHANGE.items()]  # type: ignore[arg-type]
    with ProcessPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(_evaluate, [(k, c, series, baselines) for k, c in candidates]))
        jobs = [(q, name, series, baselines) for q in ERROR_QUANTILES for name in series]
        forecast_gaps = list(pool.map(_forecast_gap, jobs))
    results.sort(key=lambda r: (r[0], r[1], -r[2]))
    lines = [
        "| rank | default not dominated (traces) | frontier above HPA/KEDA (traces) | mean gap_closed | "
        "gap_closed per trace | sizing | target | scale-down window s | other change |",
        "|---:|---:|---:|---:|---|---|---:|---:|---|",
    ]
    for rank, (bad_default, bad_frontier, gap, per, knobs, change) in enumerate(results, start=1):
        lines.append(
            f"| {rank} | {bad_default} | {bad_frontier} | {gap:.3f} | {' '.join(map(str, per))} | "
            f"{_sizing_name(knobs)} | {knobs.utilization:g} | "
            f"{knobs.scale_down_window} | {change} |"
        )
    table = "\n".join(lines)
    print(table)
    errors = ["| forecast.errorQuantile | gap_closed per trace | mean |", "|---|---|---:|"]
    for quantile in ERROR_QUANTILES:
        gaps = [g if g is not None else 0.0 for q, _, g in forecast_gaps if q == quantile]
        errors.append(
            f"| {quantile or 'unset'} | {' '.join(f'{g:.2f}' for g in gaps)} | {statistics.mean(gaps):.3f} |"
        )
    print("\n".join(errors))
    body = (
        f"Trained on {', '.join(series)}; held out, never read by the tuner: the Azure LLM trace and "
        "WorldCup98's last four days. Candidates: each sizing of "
        f"{', '.join(SIZINGS)} (method rise: horizon {presets.RECOMMENDED_HORIZON} s) with "
        f"{', '.join(f'{k} {v}' for k, v in GRID.items())}; other knobs as the recommended preset. "
        f"Then one change at a time to the recommended preset: {', '.join(ONE_CHANGE)}. "
        f"All {len(results)}, best first:\n\n{table}\n\n"
        "The forecast family (the recommended knobs plus a Holt forecast over the start-up time), by "
        f"forecast.errorQuantile (gap_closed of the forecast family; traces in the order above):\n\n"
        + "\n".join(errors)
    )
    recording.record(
        "tune-frontier",
        "## Tuning the engine on the frontier (synthetic traces and WorldCup98 days 1-3 only)",
        body,
    )


if __name__ == "__main__":
    main()
