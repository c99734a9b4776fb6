"""How simulation time scales (with ticks, not replicas) and the WorldCup98 week's frontier run time.

    uv run python bench/sweep_speed.py             # two pairs (A B A B) of the WorldCup98 frontier
    uv run python bench/sweep_speed.py --pairs 0   # no frontier: on a busy machine a pair takes minutes

1. One simulation of the recommended preset at 2,000 ticks, with the demand scaled so the peak needs
   ~100 replicas, then ~10^7 (maxReplicas 10^8), run by this checkout and by the simulator before this
   work (git commit BEFORE, extracted into a temporary folder), side by side in one run, each in its own
   process with a time limit.
2. A trace of two busy days around 30 idle days (zero load; 184,320 ticks), one simulation of KEDA's
   defaults, this checkout against main before the speed-up (BASE), which already skipped quiet spans.
3. `scaleplane simulate --frontier --json --jobs 2` on ../shared/traces/worldcup98-1998-06-08-week.csv
   (40,320 ticks of 15 s, 4 families x 12 targets = 48 runs), this checkout and BASE in turn (A B A B),
   each timed as a whole process: wall time, and the CPU time of all its processes, whose half is the
   wall time on 2 cores nobody else uses; the ratio is taken pair by pair, and the two outputs are
   compared byte for byte (the speed-up must not change one result).
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
BASE = "62ca7a2"  # main before the per-tick speed-up (scaling.facts, scaling.records, lazy messages)
PAIRS = 2  # A B A B: on a shared machine a sweep takes minutes
LIMIT = 120.0
SNIPPET = """
import random, time
try:  # this checkout's layout, or an older commit's (one module per file in scaling/)
    from scaleplane.scaling.simulating import presets, simulation
except ImportError:
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


def old_source(folder: Path, commit: str = BEFORE) -> Path:
    archive = folder / f"{commit}.tar"
    with archive.open("wb") as out:
        subprocess.run(["git", "-C", str(ROOT), "archive", commit, "src"], stdout=out, check=True)
    target = folder / commit
    with tarfile.open(archive) as tar:
        tar.extractall(target, filter="data")
    return target / "src"


IDLE = """
import time
try:  # this checkout's layout, or an older commit's (one module per file in scaling/)
    from scaleplane.scaling.simulating import presets, simulation
except ImportError:
    from scaleplane.scaling import presets, simulation
model = simulation.TargetModel()
day = [2.0 + (k % 240) / 60 for k in range(5760)]
demand = day + [0.0] * (30 * 5760) + day
spec = presets.keda_default(presets.recommended(model, max_replicas=100)).spec
began = time.perf_counter()
simulation.simulate(spec, demand, model=model, sync_seconds=30.0)
print(time.perf_counter() - began)
"""


def sweep(src: Path) -> tuple[float, float, float, bytes]:
    """(wall s, CPU s of all its processes, load average at start, output) of the WorldCup98 frontier."""
    code = (
        "import sys; from scaleplane.cli import main; "
        f"sys.argv = ['scaleplane', 'simulate', '--trace', {str(WORLDCUP)!r}, '--frontier', '--json', "
        "'--jobs', '2']; main()"
    )
    load = os.getloadavg()[0]
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    env = os.environ | {"PYTHONPATH": str(src)}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, check=True)
    seconds = time.perf_counter() - began
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    return seconds, cpu, load, done.stdout


def main() -> None:
    lines = [
        "| peak demand (units/s) | peak replicas | this checkout s | before s |",
        "|---:|---:|---:|---:|",
    ]
    sweep_rows = [
        "| pair | this checkout: wall s / CPU s | main: wall s / CPU s | CPU main / this | load avg at start "
        "| same JSON |",
        "|---:|---:|---:|---:|---:|---|",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        before = old_source(Path(tmp))
        base = old_source(Path(tmp), BASE)
        for peak in (25.0, 2_500_000.0):
            now = timed(SNIPPET.format(peak=peak), ROOT / "src")
            then = timed(SNIPPET.format(peak=peak), before)
            lines.append(f"| {peak:,.0f} | {round(peak / 0.25 / 0.8):,} | {now} | {then} |")
            print(lines[-1], flush=True)
        idle = f"| {timed(IDLE, ROOT / 'src')} | {timed(IDLE, base)} |"
        print(idle, flush=True)
        ratios = []
        pairs = int(sys.argv[sys.argv.index("--pairs") + 1]) if "--pairs" in sys.argv else PAIRS
        for pair in range(1, pairs + 1 if WORLDCUP.exists() else 1):
            mine, theirs = sweep(ROOT / "src"), sweep(base)
            ratios.append(theirs[1] / mine[1])
            sweep_rows.append(
                f"| {pair} | {mine[0]:.1f} / {mine[1]:.1f} | {theirs[0]:.1f} / {theirs[1]:.1f} | "
                f"{ratios[-1]:.2f} | {mine[2]:.1f}, {theirs[2]:.1f} | "
                f"{'yes' if mine[3] == theirs[3] else 'NO'} |"
            )
            print(sweep_rows[-1], flush=True)
    body = (
        "2,000 ticks of the recommended policy, maxReplicas 10^8, demand uniform in [0.5, 1] x peak "
        f"(each run in its own process, {LIMIT:.0f} s limit; 'before' is commit {BEFORE}, whose start-ups "
        "were one list entry per replica and whose oracle walked every replica level):\n\n"
        + "\n".join(lines)
        + "\n\nTwo busy days around 30 idle days (184,320 ticks of 15 s), KEDA's defaults, one simulation: "
        f"this checkout and main before the speed-up ({BASE}), both skipping the idle span "
        "(scaling.simulating.skipping):"
        "\n\n| this checkout s | main s |\n|---:|---:|\n"
        + idle
        + "\n\nThe WorldCup98 week's frontier (`scaleplane simulate --trace "
        "../shared/traces/worldcup98-1998-06-08-week.csv --frontier --json --jobs 2`: 40,320 ticks, "
        f"4 families x 12 targets), this checkout and main ({BASE}) in turn, the goal being under 60 s on "
        "2 cores. The machine was shared with other engineers' jobs (the load averages are in the table), "
        "so a worker did not have a core to itself: the wall time is an upper bound, the CPU time is what "
        "the sweep needs (its half is the wall time on 2 free cores), the ratio is taken pair by pair, and "
        "'same JSON' says whether the two printed byte-identical results:"
        "\n\n" + ("\n".join(sweep_rows) if len(sweep_rows) > 2 else "(not measured in this run: --pairs 0)")
    )
    recording.record("sweep-speed", "## Simulation and sweep speed (bench/sweep_speed.py)", body)


if __name__ == "__main__":
    main()
