"""Supervised processes: own process group, PID file, readiness probe, group-wide stop.

Every server and worker of the local platform runs through `SupervisedProcess`:
- it starts in a new session (its own process group), so stopping it reaches every child it forked;
- a PID file under the run directory records pid, process group and the kernel's start time of the
  process, so a later start can tell a stale file (process gone, or PID reused by someone else) from a
  live leftover of a crashed run, and end only the latter;
- stop sends the process's own shutdown signal (SIGTERM for Celery's warm shutdown, SIGINT for
  PostgreSQL's fast shutdown) to the leader, waits, then SIGTERM and SIGKILL to whatever of the group
  remains. It returns only when no process of the group is left.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any

POLL = 0.05


class ProcessFailed(RuntimeError):
    """A supervised process exited early or never became ready; carries the tail of its log."""

    def __init__(self, message: str, log_tail: str = "") -> None:
        super().__init__(f"{message}\n--- last lines of its log ---\n{log_tail}" if log_tail else message)
        self.log_tail = log_tail


@dataclass(frozen=True)
class PidRecord:
    name: str
    pid: int
    pgid: int
    start_ticks: int
    argv: list[str]


def _stat_fields(pid: int | str) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name (state, ppid, pgrp, ...), None if gone. The
    name may hold spaces and parentheses, so the split is after the last ")"."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    return stat[stat.rindex(")") + 2 :].split()


def start_ticks(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (field 22 of /proc/PID/stat), None if gone."""
    fields = _stat_fields(pid)
    if fields is None or fields[0] == "Z":  # a zombie has finished: only its parent's wait() is missing
        return None
    return int(fields[19])


def _live_where(field: int, value: int) -> list[int]:
    """Live (non-zombie) processes whose stat field `field` (after the name) is `value`."""
    found = []
    for entry in Path("/proc").iterdir():
        fields = _stat_fields(entry.name) if entry.name.isdigit() else None
        if fields is not None and fields[0] != "Z" and int(fields[field]) == value:
            found.append(int(entry.name))
    return found


def group_members(pgid: int) -> list[int]:
    """Live (non-zombie) processes of a process group, read from /proc (kill(0) counts zombies)."""
    return _live_where(2, pgid)


def children(pid: int) -> list[int]:
    """Live (non-zombie) processes whose parent is `pid`."""
    return _live_where(1, pid)


def alive(record: PidRecord) -> bool:
    return start_ticks(record.pid) == record.start_ticks


def is_leftover(record: PidRecord) -> bool:
    """The recorded process, or what remains of its group, still runs.

    The group counts only while its leader is gone: Linux does not reuse a PID still in use as a process
    group ID, so a live process whose PID equals the recorded group ID is someone else's leader (the
    group emptied and the PID was reused); its group must not be touched.
    """
    if alive(record):
        return True
    return start_ticks(record.pgid) is None and bool(group_members(record.pgid))


def read_record(pid_file: Path) -> PidRecord | None:
    try:
        return PidRecord(**json.loads(pid_file.read_text()))
    except (FileNotFoundError, ValueError, TypeError):
        return None


def _signal_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def end_group(pgid: int, *, grace: float = 3.0) -> None:
    """SIGTERM the whole group, then SIGKILL after `grace`; returns when the group is empty."""
    if not group_members(pgid):
        return
    _signal_group(pgid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while group_members(pgid) and time.monotonic() < deadline:
        time.sleep(POLL)
    while group_members(pgid):
        _signal_group(pgid, signal.SIGKILL)
        time.sleep(POLL)


def clean_stale(pid_file: Path) -> PidRecord | None:
    """End a leftover of an earlier run recorded in `pid_file` if still running; drop the file."""
    record = read_record(pid_file)
    ended = None
    if record is not None and is_leftover(record):
        end_group(record.pgid)
        ended = record
    pid_file.unlink(missing_ok=True)
    return ended


def stale_records(run_dir: Path) -> list[PidRecord]:
    """PID files under `run_dir` whose process still runs (what `local up` must end before starting)."""
    found = []
    for pid_file in sorted(run_dir.glob("*.pid")):
        record = read_record(pid_file)
        if record is not None and is_leftover(record):
            found.append(record)
    return found


class SupervisedProcess:
    def __init__(
        self,
        name: str,
        argv: Sequence[str | Path],
        *,
        run_dir: Path,
        log_path: Path | None = None,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        user: str | None = None,
        stop_signal: int = signal.SIGTERM,
        stop_timeout: float = 10.0,
    ) -> None:
        self.name = name
        self.argv = [str(arg) for arg in argv]
        self.run_dir = run_dir
        self.pid_file = run_dir / f"{name}.pid"
        self.log_path = log_path or run_dir / f"{name}.log"
        self.env = dict(env) if env is not None else None
        self.cwd = cwd
        self.user = user
        self.stop_signal = stop_signal
        self.stop_timeout = stop_timeout
        self._popen: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self._popen.pid if self._popen else None

    def start(self) -> SupervisedProcess:
        if self.running():
            raise RuntimeError(f"{self.name} is already running (pid {self.pid})")
        self.run_dir.mkdir(parents=True, exist_ok=True)
        clean_stale(self.pid_file)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("ab")
        extra: dict[str, Any] = {}
        if self.user is not None and os.geteuid() == 0:
            extra = {"user": self.user, "group": self.user, "extra_groups": []}
        try:
            self._popen = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=subprocess.STDOUT,
                env=self.env,
                cwd=self.cwd,
                start_new_session=True,
                **extra,
            )
        except FileNotFoundError as error:
            self._close_log()
            raise ProcessFailed(f"{self.name}: cannot run {self.argv[0]}: {error}") from error
        ticks = start_ticks(self._popen.pid) or 0
        record = PidRecord(self.name, self._popen.pid, self._popen.pid, ticks, self.argv)
        tmp = self.pid_file.with_suffix(".pid.tmp")
        tmp.write_text(json.dumps(asdict(record)))
        tmp.replace(self.pid_file)
        return self

    def running(self) -> bool:
        return self._popen is not None and self._popen.poll() is None

    def exit_code(self) -> int | None:
        return self._popen.poll() if self._popen else None

    def log_tail(self, lines: int = 25) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def wait_ready(self, probe: Callable[[], bool], timeout: float, what: str = "ready") -> None:
        """Poll `probe` until true; fail early, with the log, if the process exits meanwhile."""
        deadline = time.monotonic() + timeout
        while True:
            code = self.exit_code()
            if code is not None:
                raise ProcessFailed(
                    f"{self.name} exited with code {code} before it was {what}", self.log_tail()
                )
            with contextlib.suppress(Exception):
                if probe():
                    return
            if time.monotonic() > deadline:
                raise ProcessFailed(f"{self.name} was not {what} within {timeout:g} s", self.log_tail())
            time.sleep(POLL * 2)

    def signal(self, sig: int) -> None:
        if self.running() and self._popen is not None:
            with contextlib.suppress(ProcessLookupError):
                self._popen.send_signal(sig)

    def stop(self, timeout: float | None = None) -> None:
        """Graceful stop of the leader, then end the rest of the group; idempotent."""
        popen = self._popen
        if popen is not None:
            if popen.poll() is None:
                self.signal(self.stop_signal)
                try:
                    popen.wait(self.stop_timeout if timeout is None else timeout)
                except subprocess.TimeoutExpired:
                    _signal_group(popen.pid, signal.SIGKILL)
                    popen.wait()
            end_group(popen.pid, grace=1.0)
        self.pid_file.unlink(missing_ok=True)
        self._close_log()

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None


def failure_log(error: Exception) -> str:
    """What a failed start left in its log (for deciding whether to retry on another port)."""
    return error.log_tail if isinstance(error, ProcessFailed) else str(error)
