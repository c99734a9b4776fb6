"""`scaleplane demo` with and without `--ha-database`, side by side in one run: wall time and start-up.

    uv run --frozen python -m bench.demo_ha_database [--profile short] [--rounds 1]

Each round runs the plain demo, then the HA one (each a fresh state directory under a temporary one,
`--no-live`), and prints one table: the exit code, the wall time of the whole command, and the
"platform up in N s" the demo itself reports. Runs alternate so a busy moment of a shared machine
falls on both.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

UP = re.compile(r"platform up in (\d+) s")


def run_demo(state_dir: Path, profile: str, ha: bool) -> tuple[int, float, str]:
    argv = [sys.executable, "-c", "from scaleplane.cli import main; main()", "demo", "--profile", profile]
    argv += ["--no-live", "--state-dir", str(state_dir), *(["--ha-database"] if ha else [])]
    started = time.monotonic()
    done = subprocess.run(argv, capture_output=True, text=True, timeout=900)
    wall = time.monotonic() - started
    found = UP.search(done.stdout)
    return done.returncode, wall, found.group(1) if found else "?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="short")
    parser.add_argument("--rounds", type=int, default=1, choices=range(1, 6))
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-hademo-") as root:
        Path(root).chmod(0o755)  # the postgres user must traverse it
        for round_ in range(1, args.rounds + 1):
            for ha in (False, True):
                mode = "--ha-database" if ha else "plain primary"
                code, wall, up = run_demo(Path(root) / f"{round_}-{int(ha)}", args.profile, ha)
                rows.append((round_, mode, code, wall, up))
                print(f"round {round_} {mode}: exit {code}, {wall:.1f} s", file=sys.stderr)
    print(f"scaleplane demo --profile {args.profile} --no-live, plain primary vs --ha-database")
    print("| round | database | exit | wall time (s) | platform up in (s) |")
    print("|---|---|---|---|---|")
    for round_, mode, code, wall, up in rows:
        print(f"| {round_} | {mode} | {code} | {wall:.1f} | {up} |")


if __name__ == "__main__":
    main()
