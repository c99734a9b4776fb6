"""Search the recommended policy's knobs on the synthetic traces only, then check the pick on the real one.

    uv run python bench/tune_recommended.py

For every combination of knobs, each trace is simulated with the recommended policy and with the
HPA-default baseline holding the same target. A combination qualifies when, over the synthetic traces,
it has no more SLO-violation minutes than the HPA in total; among those the one with the lowest mean ratio of
replica-hours to the HPA's wins. The real trace is not used to choose: it is reported for the winner.
"""

from __future__ import annotations

import itertools
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import recording
from scaleplane.scaling.simulating import presets, simulation, traces

TRACES = Path(__file__).resolve().parents[1] / "traces"
REAL = "azure-llm-conv-2023"
TICK = 15.0
# The target utilization is left out: the HPA baseline holds the same target, so it moves both alike.
GRID = {
    "scale_down_window": (30, 60, 120, 180, 300),
    "scale_down_percent": (10, 20, 50, 100),
    "scale_up_tolerance": (0.0, 0.05, 0.1),
}


def load(path: Path) -> traces.DemandTrace:
    return traces.parse_trace(path.read_text().splitlines(), source=path.name, bucket_seconds=TICK)


def score(knobs: presets.Knobs, demand: list[float], model: simulation.TargetModel) -> tuple[float, float]:
    """(replica-hours ratio to the HPA, SLO minutes minus the HPA's) for one trace."""
    mine = presets.recommended(model, knobs=knobs)
    hpa = presets.hpa_default(mine)
    ours = simulation.simulate(mine, demand, model=model, tick_seconds=TICK)
    theirs = simulation.simulate(
        hpa.spec, demand, model=model, tick_seconds=TICK, sync_seconds=hpa.sync_seconds
    )
    extra = ours.slo_violation_minutes - theirs.slo_violation_minutes
    return ours.replica_hours / theirs.replica_hours, extra


def main() -> None:
    model = simulation.TargetModel()
    series = {p.stem: traces.resample(load(p), TICK) for p in sorted(TRACES.glob("*.csv"))}
    training = {k: v for k, v in series.items() if k != REAL}
    results = []
    for values in itertools.product(*GRID.values()):
        knobs = presets.Knobs(**dict(zip(GRID, values, strict=True)))
        scores = [score(knobs, demand, model) for demand in training.values()]
        extra = sum(e for _, e in scores)
        results.append((extra > 0, statistics.mean(r for r, _ in scores), extra, knobs))
    results.sort(key=lambda r: (r[0], r[1]))
    lines = [
        "| rank | SLO <= HPA (total) | mean replica-h / HPA | SLO min vs HPA (total) | "
        "scale-down window s | scale-down %/min | scale-up tolerance |",
        "|---:|---|---:|---:|---:|---:|---:|",
    ]
    for rank, (failed, mean_ratio, extra, knobs) in enumerate(results[:12], start=1):
        lines.append(
            f"| {rank} | {'no' if failed else 'yes'} | {mean_ratio:.3f} | {extra:+.2f} | "
            f"{knobs.scale_down_window} | {knobs.scale_down_percent} | {knobs.scale_up_tolerance:g} |"
        )
    best = results[0][3]
    ratio, extra = score(best, series[REAL], model)
    check = f"Real trace, winner: replica-hours {ratio:.3f}x the HPA's, SLO minutes {extra:+.2f} vs the HPA."
    table = "\n".join(lines)
    print(table)
    print()
    print(check)
    body = (
        f"Grid: {', '.join(f'{k} {v}' for k, v in GRID.items())}; utilization {best.utilization} (the HPA "
        "baseline holds the same target). Trained on the synthetic traces only; best 12 of "
        f"{len(results)}:\n\n{table}\n\n{check}"
    )
    recording.record("tune-recommended", "## Tuning the recommended policy (synthetic traces only)", body)


if __name__ == "__main__":
    main()
