"""How simulation time scales (with ticks, not replicas) and the WorldCup98 week's frontier run time.

    uv run python bench/sweep_speed.py

1. One simulation of the recommended preset at 2,000 ticks, with the demand scaled so the peak needs
   ~100 replicas, then ~10^7 (maxReplicas 10^8), run by this checkout and by the simulator before this
   work (git commit BEFORE, extracted into a temporary folder), side by side in one run, each in its own
   process with a time limit.
2. `scaleplane simulate --frontier --json --jobs 2` on ../shared/traces/worldcup98-1998-06-08-week.csv
   (40,320 ticks of 15 s, 4 families x 12 targets = 48 runs): wall time, and the CPU time of all its
   processes, whose half is the wall time on 2 cores nobody else uses.
The machine is shared with other engineers' jobs: the seconds are upper bounds, the ratios hold.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import recording

ROOT = Path(__file__).resolve().parents[1]
# ../shared/traces from the main checkout (/work/main), or from a worktree one level deeper
WORLDCUP = (
    next((p for p in (ROOT.parent, ROOT.parents[1]) if (p / "shared" / "traces").is_dir()), ROOT)
    / "shared"
    / "traces"
    / "worldcup98-1998-06-08-week.csv"
)
BEFORE = "bc89f14"  # main before the latency model and the batched start-ups
LIMIT = 120.0
SNIPPET = """
import random, time
from scaleplane.scaling import presets, simulation
random.seed(7)
model = simulation.TargetModel()
demand = [{peak} * (0.5 + 0.5 * random.random()) for _ in range(2000)]
spec = presets.recommended(model, max_replicas=100_000_000)
began = time.perf_counter()
simulation.simulate(spec, demand, model=model)
print(time.perf_counter() - began)
"""


def timed(code: str, src: Path) -> str:
    env = os.environ | {"PYTHONPATH": str(src)}
    try:
        done = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=LIMIT, check=True
        )
    except subprocess.TimeoutExpired:
        return f"> {LIMIT:.0f}"
    return f"{float(done.stdout.strip()):.2f}"


def old_source(folder: Path) -> Path:
    archive = folder / "before.tar"
    with archive.open("wb") as out:
        subprocess.run(["git", "-C", str(ROOT), "archive", BEFORE, "src"], stdout=out, check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(folder, filter="data")
    return folder / "src"


def main() -> None:
    lines = [
        "| peak demand (units/s) | peak replicas | this checkout s | before s |",
        "|---:|---:|---:|---:|",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        before = old_source(Path(tmp))
        for peak in (25.0, 2_500_000.0):
            now = timed(SNIPPET.format(peak=peak), ROOT / "src")
            then = timed(SNIPPET.format(peak=peak), before)
            lines.append(f"| {peak:,.0f} | {round(peak / 0.25 / 0.8):,} | {now} | {then} |")
            print(lines[-1], flush=True)
    sweep = [
        "| command | wall s | CPU s (all processes) | CPU s / 2: wall on 2 free cores | load avg at start |",
        "|---|---:|---:|---:|---:|",
    ]
    if WORLDCUP.exists():
        for jobs in (2,):
            command = ["scaleplane", "simulate", "--trace", str(WORLDCUP), "--frontier", "--json"]
            command += ["--jobs", str(jobs)]
            load = os.getloadavg()[0]
            cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
            began = time.perf_counter()
            subprocess.run(["uv", "run", "--frozen", *command], cwd=ROOT, capture_output=True, check=True)
            seconds = time.perf_counter() - began
            cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
            shown = " ".join(command).replace(
                str(WORLDCUP), "../shared/traces/worldcup98-1998-06-08-week.csv"
            )
            sweep.append(f"| `{shown}` | {seconds:.1f} | {cpu:.1f} | {cpu / 2:.1f} | {load:.1f} |")
            print(sweep[-1], flush=True)
    body = (
        "2,000 ticks of the recommended policy, maxReplicas 10^8, demand uniform in [0.5, 1] x peak "
        f"(each run in its own process, {LIMIT:.0f} s limit; 'before' is commit {BEFORE}, whose start-ups "
        "were one list entry per replica and whose oracle walked every replica level):\n\n"
        + "\n".join(lines)
        + "\n\nThe WorldCup98 week's frontier (40,320 ticks, 4 families x 12 targets), the goal being under "
        "60 s on 2 cores. The machine was shared with other engineers' jobs during the run (the load "
        "average is in the table), so a worker did not have a core to itself and the wall time is an upper "
        "bound; the CPU time is what the sweep itself needs:\n\n" + "\n".join(sweep)
    )
    recording.record("sweep-speed", "## Simulation and sweep speed (bench/sweep_speed.py)", body)


if __name__ == "__main__":
    main()
