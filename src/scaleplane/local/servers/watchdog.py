"""The platform's watchdog: when the controller process dies without stopping its servers, end them.

`local up` and `demo` start it (in its own process group, with a PID record like every server). It
polls the controller's PID and kernel start time twice a second; when that process is gone (killed with
SIGKILL, crashed in native code, its terminal closed) it ends every process recorded under the state
directory, by process group, then exits. A controller that stops normally stops the watchdog first.

    python -m scaleplane.local.servers.watchdog --state-dir DIR --pid PID --start-ticks TICKS
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from pathlib import Path

from scaleplane.local import runfiles
from scaleplane.local.servers import processes

POLL_SECONDS = 0.5
NAME = "watchdog"  # its PID record: <servers dir>/watchdog.pid


def watch(
    state_dir: Path, pid: int, start_ticks: int, poll: float = POLL_SECONDS
) -> list[processes.PidRecord]:
    """Block until the controller is gone, then end the platform's leftovers; returns what was ended."""
    while processes.start_ticks(pid) == start_ticks:
        time.sleep(poll)
    return runfiles.end_leftovers(state_dir, skip_pid=os.getpid())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scaleplane.local.servers.watchdog", description=__doc__)
    parser.add_argument("--state-dir", type=Path, required=True)
    parser.add_argument("--pid", type=int, required=True)
    parser.add_argument("--start-ticks", type=int, required=True)
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # a normal stop: the controller cleans up
    ended = watch(args.state_dir, args.pid, args.start_ticks)
    names = ", ".join(f"{r.name} ({r.pid})" for r in ended) or "nothing"
    print(f"controller {args.pid} is gone; ended {names}", flush=True)
    (runfiles.servers_dir(args.state_dir) / f"{NAME}.pid").unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
