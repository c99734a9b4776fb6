"""How long `scaleplane cost estimate --stack aws-prod` takes on a fresh clone, next to `scaleplane plan`.

For each install mode: clone the repository's committed HEAD into a temporary folder, `uv sync --frozen`
a new virtualenv there (from uv's cache: no download), then run, each as a new process as a user would:
the estimate three times, the estimate with `--compare aws-dev` (two stacks planned) once, and the plan
alone once, so the estimate's own share shows as a ratio measured side by side in the same run.

Modes: `plain` is a bare `uv sync` (the first Pulumi import compiles the SDKs' sources); `compiled` is
`uv sync --compile-bytecode`, what scripts/bootstrap.sh (the README's `./run`) does when it creates the
virtualenv. Wall and CPU time (user + system of uv and the Python it runs) are both shown: on a shared
machine wall time stretches with the load, CPU time is near what a quiet machine would see.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench import recording

ROOT = Path(__file__).resolve().parents[1]
ESTIMATE = ["uv", "run", "--frozen", "scaleplane", "cost", "estimate", "--stack", "aws-prod"]


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _timed(command: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    start, cpu = time.perf_counter(), _cpu()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed: {done.stderr[-2000:]}")
    return time.perf_counter() - start, _cpu() - cpu


def measure(mode: str, workdir: Path) -> dict[str, object]:
    clone = workdir / mode
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "UV_COMPILE_BYTECODE")}
    sync = ["uv", "sync", "--frozen", "--quiet"] + (["--compile-bytecode"] if mode == "compiled" else [])
    sync_seconds, _ = _timed(sync, clone, env)
    estimates = [_timed(ESTIMATE, clone, env) for _ in range(3)]
    compare = _timed([*ESTIMATE, "--compare", "aws-dev"], clone, env)
    plan = _timed(["uv", "run", "--frozen", "scaleplane", "plan", "--stack", "aws-prod"], clone, env)
    return {"mode": mode, "sync": sync_seconds, "estimates": estimates, "compare": compare, "plan": plan}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--modes", nargs="+", default=["plain", "compiled"], choices=["plain", "compiled"])
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="scaleplane-cost-bench-") as tmp:
        for mode in args.modes:
            rows.append(measure(mode, Path(tmp)))
            print(rows[-1], flush=True)
    lines = [
        "| install | uv sync wall (s) | 1st estimate wall / CPU (s) | 2nd | 3rd | `--compare aws-dev` | "
        "plan alone (after) | estimate / plan (3rd vs plan, CPU) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        runs = " | ".join(f"{wall:.1f} / {cpu:.1f}" for wall, cpu in row["estimates"])  # type: ignore[attr-defined]
        compare, plan = row["compare"], row["plan"]
        ratio = row["estimates"][-1][1] / plan[1]  # type: ignore[index]
        lines.append(
            f"| {row['mode']} | {row['sync']:.1f} | {runs} | {compare[0]:.1f} / {compare[1]:.1f} | "  # type: ignore[index]
            f"{plan[0]:.1f} / {plan[1]:.1f} | {ratio:.2f}x |"  # type: ignore[index]
        )
    load = os.getloadavg()[0]
    body = (
        "Each run a new process in a fresh clone, interpreter start and imports included. The machine was "
        "shared with other engineers' work while this ran "
        f"(1-minute load average at the end: {load:.1f}); compare the ratio more than the seconds. "
        "`plain`: `uv sync`; `compiled`: `uv sync --compile-bytecode` (what `./run` sets up).\n\n"
        + "\n".join(lines)
    )
    print("\n".join(lines))
    recording.record("cost_estimate_speed", "## Cost estimate of aws-prod on a fresh clone", body)


if __name__ == "__main__":
    main()
