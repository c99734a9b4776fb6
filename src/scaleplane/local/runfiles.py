"""The state directory's layout, and what its files say about a platform that runs (or ran).

    <state-dir>/
      controller.pid     PID record of the process that runs the controller (`local up`, `demo`)
      platform.json      written once everything is up: ports, URLs, PIDs, policies (read by `status`)
      decisions.jsonl    the decision log            state.json   engine state per policy
      readpool.json      the sample app's read pool  logs/        one log per process
      servers/           data directories and PID files of every server and worker

Every process the platform starts leaves a PID record (pid, process group, kernel start time) under
the state directory. A platform that died without cleaning up (SIGKILL, a crash, a power cut) is
therefore found by the next `up`, `down` or `doctor`: a record whose process still has the recorded
start time is a leftover and is ended by process group; one whose PID is gone or reused is stale and
only deleted.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from scaleplane.local.servers import processes

DEFAULT_STATE_DIR = Path(".scaleplane/local")
CONTROLLER = "controller"


def controller_pid_file(state_dir: Path) -> Path:
    return state_dir / f"{CONTROLLER}.pid"


def servers_dir(state_dir: Path) -> Path:
    return state_dir / "servers"


def platform_file(state_dir: Path) -> Path:
    return state_dir / "platform.json"


def pid_files(state_dir: Path) -> list[Path]:
    """Our PID records (PostgreSQL's own postmaster.pid is its lock file, not ours: never touch it)."""
    if not state_dir.exists():
        return []
    return sorted(p for p in state_dir.rglob("*.pid") if p.name != "postmaster.pid")


def live_records(state_dir: Path) -> list[processes.PidRecord]:
    found = []
    for path in pid_files(state_dir):
        record = processes.read_record(path)
        if record is not None and (processes.alive(record) or processes.group_members(record.pgid)):
            found.append(record)
    return found


def supervisor(state_dir: Path) -> processes.PidRecord | None:
    """The live controller process of this state directory, if any."""
    record = processes.read_record(controller_pid_file(state_dir))
    return record if record is not None and processes.alive(record) else None


def claim(state_dir: Path) -> processes.PidRecord:
    """Record this process as the state directory's controller (the caller checked none is alive)."""
    state_dir.mkdir(parents=True, exist_ok=True)
    pid = os.getpid()
    record = processes.PidRecord(CONTROLLER, pid, os.getpgid(pid), processes.start_ticks(pid) or 0, [])
    path = controller_pid_file(state_dir)
    tmp = path.with_suffix(".pid.tmp")
    tmp.write_text(json.dumps(asdict(record)))
    tmp.replace(path)
    return record


def release(state_dir: Path) -> None:
    record = processes.read_record(controller_pid_file(state_dir))
    if record is not None and record.pid == os.getpid():
        controller_pid_file(state_dir).unlink(missing_ok=True)


def end_leftovers(state_dir: Path, *, skip_pid: int | None = None) -> list[processes.PidRecord]:
    """End every live process recorded under `state_dir` (by process group) and drop all records.

    The controller's own group is never signalled as a group: in a foreground `up` it is the user's
    shell job; it is signalled by PID only.
    """
    ended = []
    controller = controller_pid_file(state_dir)
    for path in pid_files(state_dir):
        record = processes.read_record(path)
        if record is None or record.pid == skip_pid:
            continue
        if path == controller:
            if processes.alive(record):
                end_pid(record.pid)
                ended.append(record)
            path.unlink(missing_ok=True)
            continue
        if processes.clean_stale(path) is not None:
            ended.append(record)
    return ended


def end_pid(pid: int, grace: float = 60.0) -> bool:
    """SIGTERM `pid` and wait up to `grace` for it to exit (a controller stops its servers first),
    then SIGKILL. True if it exited by itself."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return True
    deadline = time.monotonic() + grace
    while processes.start_ticks(pid) is not None and time.monotonic() < deadline:
        time.sleep(0.1)
    if processes.start_ticks(pid) is None:
        return True
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    return False


def write_platform(state_dir: Path, info: dict[str, Any]) -> None:
    path = platform_file(state_dir)
    tmp = path.with_name(".platform.json.tmp")
    tmp.write_text(json.dumps(info, indent=2, sort_keys=True))
    tmp.replace(path)


def read_platform(state_dir: Path) -> dict[str, Any] | None:
    try:
        data: dict[str, Any] = json.loads(platform_file(state_dir).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    return data
