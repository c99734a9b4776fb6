"""The local drill's state directory: its layout, who runs in it, and cleaning up after a killed drill.

    <state-dir>/                 default .scaleplane/drills/local
      controller.pid             the process running the drill (one drill at a time per state dir)
      drill.json                 which scenario runs, since when
      servers/                   etcd, the Patroni members, their PID records and logs, the watchdog
      logs/                      the last drill's logs, kept when servers/ is deleted (`keep_logs`)

Every process a drill starts leaves a PID record under servers/
(`scaleplane.local.servers.processes`), and each member's postmaster gets one too (Patroni starts it
outside its own process group). A drill also runs the platform's watchdog
(`scaleplane.local.servers.watchdog`): if the drill process is killed half way, the watchdog ends every
recorded process; what a crash of both leaves behind, `recover` ends.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from scaleplane.local import runfiles
from scaleplane.local.ha import patroni
from scaleplane.local.servers import processes

DEFAULT_STATE_DIR = Path(".scaleplane/drills/local")


class DrillBusy(RuntimeError):
    """Another drill runs in this state directory, or a killed one left processes behind."""


def marker(state_dir: Path) -> Path:
    return state_dir / "drill.json"


def leftovers(state_dir: Path) -> list[processes.PidRecord]:
    return runfiles.live_records(state_dir)


def recover(state_dir: Path) -> tuple[list[processes.PidRecord], list[int]]:
    """End what a killed drill left: every recorded process group, then any postmaster still running
    in the drill's data directories (Patroni restarts PostgreSQL under a new PID we may not have seen).
    Returns (records ended, postmaster PIDs ended). Refuses while the drill's process still runs."""
    controller = runfiles.supervisor(state_dir)
    if controller is not None and controller.pid != os.getpid():
        raise DrillBusy(f"a drill is running in {state_dir} (pid {controller.pid}): stop it first (Ctrl-C)")
    ended = runfiles.end_leftovers(state_dir, skip_pid=os.getpid())
    postmasters = []
    for lock in sorted(runfiles.servers_dir(state_dir).glob("*/data/postmaster.pid")):
        pid = patroni.postmaster_pid(lock.parent)
        if pid is not None:
            processes.end_group(os.getpgid(pid))
            postmasters.append(pid)
    keep_logs(state_dir)
    shutil.rmtree(runfiles.servers_dir(state_dir), ignore_errors=True)
    marker(state_dir).unlink(missing_ok=True)
    return ended, postmasters


LOGS = ("*.log", "*.jsonl")  # the servers' output, and each controller replica's acknowledged actuations


def logs_dir(state_dir: Path) -> Path:
    return state_dir / "logs"


def keep_logs(state_dir: Path) -> Path:
    """Copy the servers' logs to <state-dir>/logs/ (replacing the previous drill's) before the data goes:
    a failed drill is read from them. Nested paths are flattened, `member-1/patroni.log` to
    `member-1--patroni.log`."""
    servers, kept = runfiles.servers_dir(state_dir), logs_dir(state_dir)
    shutil.rmtree(kept, ignore_errors=True)
    kept.mkdir(parents=True, exist_ok=True)
    for pattern in LOGS:
        for path in sorted(servers.rglob(pattern)):
            if path.is_file():
                shutil.copyfile(path, kept / "--".join(path.relative_to(servers).parts))
    return kept


def check_free(state_dir: Path) -> None:
    """Raise DrillBusy when a drill runs in `state_dir`, or a killed one left processes there."""
    controller = runfiles.supervisor(state_dir)
    if controller is not None and controller.pid != os.getpid():
        raise DrillBusy(f"a drill is already running in {state_dir} (pid {controller.pid})")
    found = leftovers(state_dir)
    if found:
        names = ", ".join(f"{r.name} ({r.pid})" for r in found)
        raise DrillBusy(
            f"a killed drill left processes behind in {state_dir}: {names}; run `scaleplane drill recover`"
        )
