"""How long one `engine.decide` takes, in steady state; recorded in docs/benchmarks.md ("Engine speed").

    uv run python bench/engine_speed.py

This checkout and main before the speed-up (bench/sweep_speed.py's BASE) are measured in turn, each in its
own process (A B A B), and the table gives both and their ratio.

Each case first runs 200 ticks of 15 s (so the stabilization windows, rate-limit events and forecast
history are full, as in a long-running operator), then times `decide` over the next ticks, best of 5
rounds. "10,000 policies" is the time one core needs for a tick of the operator's design load.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import recording, sweep_speed
from scaleplane.scaling import decisions, specs  # with --measure, the one PYTHONPATH names first

try:  # this checkout's layout, or the older commit's it is measured against (engine.py in scaling/)
    from scaleplane.scaling.deciding import engine
except ImportError:
    from scaleplane.scaling import engine  # type: ignore[no-redef]

ROOT = Path(__file__).resolve().parents[1]

TICK = 15.0
WARM = 200
TIMED = 2000
PAIRS = 2


def spec_of(**extra: Any) -> specs.ScalingPolicySpec:
    data: dict[str, Any] = {
        "targetRef": {"name": "bench"},
        "minReplicas": 1,
        "maxReplicas": 200,
        "metrics": [
            {"name": "queue", "query": "sum(queue)", "target": {"type": "AverageValue", "value": 20}}
        ],
    }
    data.update(extra)
    return specs.parse_policy(data)


CASES: dict[str, specs.ScalingPolicySpec] = {
    "HPA defaults, 1 metric": spec_of(),
    "3 metrics, fallback, 2 schedules": spec_of(
        metrics=[
            {"name": n, "query": n, "target": {"type": t, "value": 20}}
            for n, t in (("queue", "AverageValue"), ("cpu", "Value"), ("lag", "AverageValue"))
        ],
        fallback={"failureThreshold": 3, "action": "hold"},
        schedules=[
            {"name": "am", "cron": "0 9 * * 1-5", "durationSeconds": 3600, "minReplicas": 5},
            {
                "name": "pm",
                "cron": "30 17 * * *",
                "durationSeconds": 1800,
                "minReplicas": 8,
                "timezone": "Europe/Paris",
            },
        ],
    ),
    "forecast holt, 1800 s history": spec_of(forecast={"model": "holt", "historySeconds": 1800}),
    "forecast holt-winters, daily season": spec_of(
        forecast={"model": "holt-winters", "historySeconds": 1800, "seasonSeconds": 86400}
    ),
}


def load_at(i: int) -> float:
    return 400 + 300 * math.sin(i / 40) + (i * 7919 % 13) * 5  # wavy with deterministic noise


def time_case(spec: specs.ScalingPolicySpec) -> tuple[float, int]:
    state, current = decisions.ScalingState(), 5
    names = [m.name for m in spec.metrics]

    def tick(i: int) -> None:
        nonlocal state, current
        now = 1_700_000_000.0 + i * TICK
        samples = tuple(decisions.MetricSample(n, load_at(i)) for n in names)
        decision, state = engine.decide(
            spec, decisions.Observation(now, current, current, samples), state, now
        )
        current = decision.desired

    for i in range(WARM):
        tick(i)
    best = math.inf
    for round_ in range(5):
        began = time.perf_counter()
        for i in range(TIMED):
            tick(WARM + round_ * TIMED + i)
        best = min(best, (time.perf_counter() - began) / TIMED)
    size = len(state.recommendations) + len(state.scale_events) + len(state.history)
    return best, size


def measure() -> None:
    """`--measure`: one line per case, `name<TAB>seconds<TAB>entries`, for whichever scaleplane imports."""
    for name, spec in CASES.items():
        seconds, size = time_case(spec)
        print(f"{name}\t{seconds}\t{size}", flush=True)


def measured(src: Path) -> dict[str, tuple[float, int]]:
    env = os.environ | {"PYTHONPATH": os.pathsep.join([str(src), str(ROOT)])}
    done = subprocess.run(
        [sys.executable, __file__, "--measure"], env=env, capture_output=True, text=True, check=True
    )
    rows = (line.split("\t") for line in done.stdout.splitlines())
    return {name: (float(seconds), int(size)) for name, seconds, size in rows}


def main() -> None:
    rows = [
        "| policy | µs per decide | main µs | main / this | 10,000 policies per tick | remembered entries |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        base = sweep_speed.old_source(Path(tmp), sweep_speed.BASE)
        runs = [(measured(ROOT / "src"), measured(base)) for _ in range(PAIRS)]  # A B A B
    for name in CASES:
        mine = min(pair[0][name][0] for pair in runs)
        theirs = min(pair[1][name][0] for pair in runs)
        size = runs[0][0][name][1]
        rows.append(
            f"| {name} | {mine * 1e6:.0f} | {theirs * 1e6:.0f} | {theirs / mine:.2f} | "
            f"{mine * 1e4 * 1e3:.0f} ms | {size} |"
        )
        print(rows[-1], flush=True)
    load = os.getloadavg()[0]
    body = (
        f"Steady state after {WARM} ticks of 15 s; best of 5 rounds of {TIMED} calls, one core; this "
        f"checkout and main before the speed-up ({sweep_speed.BASE}) in turn, each in its own process, "
        f"{PAIRS} times (A B A B), the best of each kept. The machine was shared (load average {load:.1f} "
        "on 2 cores at the end of the run): read the ratios rather than the absolute times.\n\n"
        + "\n".join(rows)
    )
    recording.record("engine-speed", "## Engine speed", body)


if __name__ == "__main__":
    measure() if "--measure" in sys.argv else main()
