"""How long `scaleplane plan --stack aws-prod` takes on a fresh clone, with and without compiled bytecode.

For each mode: clone the repository's committed HEAD into a temporary folder, `uv sync --frozen` a new
virtualenv there (from uv's cache: no download), then run the plan three times as a user would
(`uv run --frozen scaleplane plan --stack aws-prod`), each a new process. The first run is the one a
user sees first; the later ones show what is left once Python's bytecode caches exist.

Modes: `plain` is a bare `uv sync` (no bytecode: the first plan compiles the Pulumi SDKs' sources and
caches the bytecode, even under PYTHONDONTWRITEBYTECODE, see scaleplane.cli.stacks); `compiled` is
`uv sync --compile-bytecode` (bytecode written at install), which is what scripts/bootstrap.sh (the
README's `./run`) does when it creates the virtualenv.

If the clone has no operator/rbac.yaml and operator/deployment.yaml yet, the plan points
`operator.manifestsDir` at the test fixture manifests (the table says so).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench import recording

ROOT = Path(__file__).resolve().parents[1]
RUNS = 3


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # waited-for children and theirs (uv -> python)
    return usage.ru_utime + usage.ru_stime


def _timed(
    command: list[str], cwd: Path, env: dict[str, str]
) -> tuple[float, float, subprocess.CompletedProcess[str]]:
    """(wall seconds, CPU seconds, result). CPU time is the honest figure on a shared, loaded machine."""
    start, cpu = time.perf_counter(), _cpu()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    return time.perf_counter() - start, _cpu() - cpu, done


def _plan_command(clone: Path) -> tuple[list[str], str]:
    command = ["uv", "run", "--frozen", "scaleplane", "plan", "--stack", "aws-prod", "--json"]
    if (clone / "operator" / "deployment.yaml").is_file() and (clone / "operator" / "rbac.yaml").is_file():
        return command, "operator/ manifests"
    data = yaml.safe_load((clone / "Pulumi.aws-prod.yaml").read_text())
    data["config"].setdefault("scaleplane:operator", {})["manifestsDir"] = "tests/infra/fixtures/operator"
    path = clone / "Pulumi.bench.yaml"
    path.write_text(yaml.safe_dump(data))
    return [*command, "--config-file", str(path)], "fixture manifests"


def measure(mode: str, workdir: Path) -> dict[str, object]:
    clone = workdir / mode
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    env = {
        key: value for key, value in os.environ.items() if key not in ("VIRTUAL_ENV", "UV_COMPILE_BYTECODE")
    }
    sync = ["uv", "sync", "--frozen", "--quiet"] + (["--compile-bytecode"] if mode == "compiled" else [])
    sync_seconds, _, done = _timed(sync, clone, env)
    if done.returncode != 0:
        raise SystemExit(f"uv sync failed in {clone}: {done.stderr[-2000:]}")
    command, manifests = _plan_command(clone)
    runs, resources = [], 0
    for _ in range(RUNS):
        seconds, cpu, done = _timed(command, clone, env)
        if done.returncode != 0:
            raise SystemExit(f"plan failed: {done.stderr[-2000:]}")
        resources = len(json.loads(done.stdout)["resources"])
        runs.append((seconds, cpu))
    return {"mode": mode, "sync": sync_seconds, "runs": runs, "resources": resources, "manifests": manifests}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--modes", nargs="+", default=["plain", "compiled"], choices=["plain", "compiled"])
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="scaleplane-plan-bench-") as tmp:
        for mode in args.modes:
            rows.append(measure(mode, Path(tmp)))
            print(rows[-1], flush=True)
    header = "| install | uv sync wall (s) | 1st plan wall / CPU (s) | 2nd | 3rd | resources | manifests |"
    lines = [header, "|---|---|---|---|---|---|---|"]
    for row in rows:
        runs = " | ".join(f"{wall:.1f} / {cpu:.1f}" for wall, cpu in row["runs"])  # type: ignore[attr-defined]
        lines.append(
            f"| {row['mode']} | {row['sync']:.1f} | {runs} | {row['resources']} | {row['manifests']} |"
        )
    load = os.getloadavg()[0]  # the 1-minute load average: how shared the machine was
    body = (
        "`scaleplane plan --stack aws-prod --json` in a fresh clone, each run a new process: wall time and "
        "CPU time (user + system of uv and the Python it runs), including interpreter start and imports. "
        "On a shared machine wall time stretches with the load; CPU time is what a quiet 2-core machine "
        "would see as wall time, near enough (the plan runs on one core). `plain`: `uv sync`; "
        "`compiled`: `uv sync --compile-bytecode`. "
        f"PYTHONDONTWRITEBYTECODE={os.environ.get('PYTHONDONTWRITEBYTECODE', '')!r}; "
        f"load average at the end: {load:.1f}.\n\n" + "\n".join(lines)
    )
    print("\n".join(lines))
    recording.record("plan_speed", "## Offline plan of aws-prod on a fresh clone", body)


if __name__ == "__main__":
    main()
