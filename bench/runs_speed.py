"""Demand as runs against one float per tick on long quiet spans: the oracle, the latency SLO, simulate.

    uv run python bench/runs_speed.py

The trace: two busy days (a 1-hour sawtooth, 2 to 6 units/s, 15 s ticks) around a gap of zero demand of
one or ten years. The oracle's plan (capacity 0.25 units/s per replica, 60 s start-up, 0 to 100
replicas) and the latency SLO of its ready replicas (p95 under 100 ms per minute; the oracle's queue is
empty: the demand never needs more than maxReplicas) are computed by `oracle.plan` and
`latencies.measure` over one float per tick, and by `oracle.plan_runs` and `latencyruns.measure_runs`
over runs (simulating.runlengths). Then `simulation.simulate` of three presets (the HPA's defaults, KEDA's,
scaleplane's recommended) at target 0.8 on the per-tick list and on the runs (both skip the quiet span,
simulating.skipping; the forecast preset cannot skip: it steps every tick either way). Each case runs in
its own process with a time limit; the per-tick forms of the ten-year gap (21 million ticks) are not
run: they need gigabytes. Last, the command line: `scaleplane simulate --trace LOG --json` on a request
log (two busy hours of 1 to 5 requests/s around the same gap; CPU of reading, resampling to runs and
simulating the recommended policy, in-process), against the per-tick path main's command took
(`traces.resample` to one float per tick, then `simulate` on the list; main refused more than 5,000,000
ticks, so the ten-year log is not run per tick). The machine is shared: read ratios.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import recording

LIMIT = 300.0
SETUP = """
import time
from scaleplane.scaling.simulating import latencies, latencyruns, oracle, runlengths
day = [2.0 + (k % 240) / 60 for k in range(5760)]
gap = int({years} * 365 * 5760)
busy = runlengths.Runs.of(day)
runs = runlengths.Runs(busy.values + (0.0,) + busy.values, busy.lengths + (gap,) + busy.lengths)
bounds = dict(capacity_per_replica=0.25, startup_ticks=4, tick_seconds=15.0, min_replicas=0, max_replicas=100)
began = time.process_time()
"""
PER_TICK = """
demand = runs.expanded()
best = oracle.plan(demand, **bounds)
arrivals = [d * 15.0 for d in demand]
queue = oracle.backlog(arrivals, best.ready, 3.75)
measured = latencies.measure(arrivals, [r * 3.75 for r in best.ready], queue,
                             tick_seconds=15.0, objective=latencies.P95_UNDER_100MS, queueing=True)
print(time.process_time() - began, best.replica_hours, measured.violation_minutes)
"""
RUNS = """
best = oracle.plan_runs(runs, **bounds)
arrivals = runlengths.Runs(tuple(v * 15.0 for v in runs.values), runs.lengths)
capacity = runlengths.Runs(tuple(r * 3.75 for r in best.ready.values), best.ready.lengths)
measured = latencyruns.measure_runs(arrivals, capacity, runlengths.Runs((0.0,), (runs.ticks,)),
                                    tick_seconds=15.0, objective=latencies.P95_UNDER_100MS, queueing=True)
print(time.process_time() - began, best.replica_hours, measured.violation_minutes)
"""


SIMULATE = """
from scaleplane.scaling.simulating import frontiers, simulation
model = simulation.TargetModel()
preset = frontiers.preset_for("{family}", model, 0.8, min_replicas={low}, max_replicas=100)
out = simulation.simulate(preset.spec, {series}, model=model, sync_seconds=preset.sync_seconds)
print(time.process_time() - began, out.replica_hours, out.slo_violation_minutes)
"""


LOG = """
import pathlib, tempfile
rows = ["TIMESTAMP"]
for begin in (1_450_000_000, 1_450_000_000 + 7200 + int({years} * 365 * 86400)):
    for second in range(7200):
        each = 1 + 2 * ((second // 600) % 3)
        rows += [f"{{begin + second + i / each:.3f}}" for i in range(each)]
log = pathlib.Path(tempfile.mkdtemp()) / "log.csv"
log.write_text("\\n".join(rows) + "\\n")
"""
CLI_PER_TICK = """
import contextlib, io, time
from scaleplane.scaling.simulating import presets, simulation, traces
began = time.process_time()
trace = traces.parse_trace(log.open(), source=str(log))
demand = traces.resample(trace, 15.0)
model = simulation.TargetModel()
out = simulation.simulate(presets.recommended(model, min_replicas=1, max_replicas=100), demand, model=model,
                          start=trace.start, name="recommended")
print(time.process_time() - began, out.replica_hours, out.slo_violation_minutes)
"""
CLI_RUNS = """
import contextlib, io, json, sys, time
from scaleplane.cli import main
sys.argv = ["scaleplane", "simulate", "--trace", str(log), "--json"]
began = time.process_time()
printed = io.StringIO()
with contextlib.redirect_stdout(printed), contextlib.suppress(SystemExit):
    main()
out = json.loads(printed.getvalue())
print(time.process_time() - began, out["replica_hours"], out["slo_violation_minutes"])
"""


def timed(code: str) -> tuple[str, str]:
    """(CPU seconds, 'replica-h / SLO min') of one case in its own process.

    Its TMPDIR is a folder removed afterwards: the request-log cases write their log with mkdtemp.
    """
    with tempfile.TemporaryDirectory(prefix="scaleplane-bench-runs-") as temp:
        try:
            done = subprocess.run(
                [sys.executable, "-c", code],
                capture_output=True,
                text=True,
                timeout=LIMIT,
                check=True,
                env=os.environ | {"TMPDIR": temp},
            )
        except subprocess.TimeoutExpired:
            return f"> {LIMIT:.0f}", "-"
    seconds, hours, minutes = done.stdout.split()
    return f"{float(seconds):.2f}", f"{float(hours):.2f} / {float(minutes):g}"


def main() -> None:
    rows = [
        "| what | gap | ticks | per tick: CPU s | runs: CPU s | per tick: replica-h / SLO min | runs: same |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    cases = [("oracle + latency SLO", PER_TICK, RUNS)] + [
        (
            f"simulate {family}",
            SIMULATE.replace("{series}", "runs.expanded()").format(family=family, low=low),
            SIMULATE.replace("{series}", "runs").format(family=family, low=low),
        )
        for family, low in (("hpa", 1), ("keda", 0), ("scaleplane", 1))
    ]
    for what, per_tick, on_runs in cases:
        for years in (1, 10):
            ticks = 2 * 5760 + int(years * 365 * 5760)
            ticked = timed(SETUP.format(years=years) + per_tick) if years == 1 else ("not run", "-")
            ran = timed(SETUP.format(years=years) + on_runs)
            rows.append(
                f"| {what} | {years} year(s) | {ticks:,} | {ticked[0]} | {ran[0]} | {ticked[1]} | {ran[1]} |"
            )
            print(rows[-1], flush=True)
    for years in (1, 10):
        ticks = 2 * 480 + int(years * 365 * 5760)
        setup = LOG.format(years=years)
        ticked = timed(setup + CLI_PER_TICK) if years == 1 else ("not run", "-")
        ran = timed(setup + CLI_RUNS)
        rows.append(
            f"| `scaleplane simulate --json` (request log) | {years} year(s) | {ticks:,} | {ticked[0]} "
            f"| {ran[0]} | {ticked[1]} | {ran[1]} |"
        )
        print(rows[-1], flush=True)
    body = (
        "Two busy days around a gap of zero demand, per tick (one float per tick) and as runs "
        "(simulating.runlengths), CPU seconds of each case in its own process (the machine was shared):"
        "\n\n" + "\n".join(rows) + "\n\nThe last two rows are the command line (bench `CLI_RUNS`: "
        "`scaleplane simulate --trace LOG --json` in process, reading the request log, resampling it to runs "
        "and simulating the recommended policy) against the per-tick path main's command took "
        "(`traces.resample` to one float per tick, then `simulate` on the list; main refused a trace over "
        "5,000,000 ticks, so ten years is not run per tick). The machine was shared with two other "
        "engineers' runs."
    )
    recording.record("runs-speed", "## Demand as runs: long quiet spans (bench/runs_speed.py)", body)


if __name__ == "__main__":
    main()
