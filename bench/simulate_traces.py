"""Every trace under traces/ x {HPA-default, KEDA-default, recommended, forecast}: replica-hours against the
oracle, SLO-violation minutes and scale events; recorded in docs/benchmarks.md ("Simulation: policies vs
oracle").

    uv run python bench/simulate_traces.py

Target model: scaleplane simulate's defaults (0.25 work units/s per replica, ready 60 s after it is
requested, a FIFO queue, rate() over 60 s, 15 s ticks); every policy holds the demand at 80 % of a
replica's capacity (the baselines take the recommended policy's metric and target with their own
defaults). The second table checks the real trace's goal at other start-up delays.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import recording
from scaleplane.scaling.simulating import presets, simulation, traces

TRACES = Path(__file__).resolve().parents[1] / "traces"
REAL = "azure-llm-conv-2023"
TICK = 15.0


def load(path: Path) -> tuple[list[float], float]:
    trace = traces.parse_trace(path.read_text().splitlines(), source=path.name, bucket_seconds=TICK)
    return traces.resample(trace, TICK), trace.start


def run_all(
    demand: list[float], start: float, model: simulation.TargetModel
) -> tuple[dict[str, simulation.Outcome], float]:
    began = time.perf_counter()
    outcomes = {
        p.name: simulation.simulate(
            p.spec,
            demand,
            model=model,
            tick_seconds=TICK,
            sync_seconds=p.sync_seconds,
            start=start,
            name=p.name,
        )
        for p in presets.standard_presets(model)
    }
    return outcomes, time.perf_counter() - began


def cell(outcome: simulation.Outcome) -> str:
    ratio = outcome.replica_hours / outcome.oracle.replica_hours
    return f"{ratio:.2f}x / {outcome.slo_violation_minutes:.2f} / {outcome.scale_events}"


def main() -> None:
    model = simulation.TargetModel()
    names = ["hpa", "keda", "recommended", "forecast"]
    header = "| trace | ticks | oracle replica-h | " + " | ".join(names) + " | seconds (4 runs + oracle) |"
    lines = [header, "|---|---:|---:|" + "---:|" * len(names) + "---:|"]
    real: dict[str, simulation.Outcome] = {}
    for path in sorted(TRACES.glob("*.csv")):
        demand, start = load(path)
        outcomes, seconds = run_all(demand, start, model)
        if path.stem == REAL:
            real = outcomes
        oracle_hours = outcomes["hpa"].oracle.replica_hours
        row = " | ".join(cell(outcomes[n]) for n in names)
        lines.append(f"| {path.stem} | {len(demand)} | {oracle_hours:.2f} | {row} | {seconds:.2f} |")
    table = "\n".join(lines)

    goal = [
        "| start-up | policy | replica-h | vs HPA | ratio to oracle | SLO min | HPA SLO min |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    demand, start = load(TRACES / f"{REAL}.csv")
    for startup in (30.0, 60.0, 180.0):
        variant = simulation.TargetModel(startup_seconds=startup)
        outcomes = real if startup == model.startup_seconds else run_all(demand, start, variant)[0]
        hpa = outcomes["hpa"]
        for name in ("recommended", "forecast"):
            mine = outcomes[name]
            goal.append(
                f"| {startup:g} s | {name} | {mine.replica_hours:.2f} | "
                f"{100 * (mine.replica_hours / hpa.replica_hours - 1):+.1f}% | "
                f"{mine.replica_hours / mine.oracle.replica_hours:.2f}x | {mine.slo_violation_minutes:.2f} | "
                f"{hpa.slo_violation_minutes:.2f} |"
            )
    hpa = real["hpa"]
    floor = 100 * (1 - hpa.oracle.replica_hours / hpa.replica_hours)
    body = (
        "Each cell: replica-hours as a ratio to the oracle / SLO-violation minutes / scale events; each "
        "ratio is to the oracle with that run's bounds (KEDA's minReplicas is 0, the others' 1; the "
        "'oracle replica-h' column is the one with minReplicas 1). "
        "This is the single-point view (one target for every policy); the frontier view is "
        "'Cost-SLO frontiers'. SLO-violation minutes are the latency SLO's (p95 under 100 ms per minute). "
        "Target model: 0.25 work units/s per replica, ready 60 s after it is requested, a FIFO queue, "
        "rate() over 60 s, 15 s ticks; every policy holds the demand at 80 % of a replica's capacity. "
        "Definitions: docs/simulate.md.\n\n"
        f"{table}\n\n"
        "The real trace's goal (>= 25 % fewer replica-hours than the HPA-default with no more SLO minutes, "
        "within 1.3x of the oracle), at three start-up delays:\n\n" + "\n".join(goal) + "\n\n"
        f"On the real trace even the oracle uses only {floor:.1f} % fewer replica-hours than the HPA-default "
        "(same target): a 25 % cut below the HPA-default would be below the proven minimum."
    )
    print(table)
    print()
    print("\n".join(goal))
    print()
    print(body.rsplit("\n\n", 1)[-1])
    recording.record("simulate", "## Simulation: policies vs oracle", body)


if __name__ == "__main__":
    main()
