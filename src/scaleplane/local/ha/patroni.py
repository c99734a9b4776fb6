"""A PostgreSQL cluster under Patroni (the Debian `patroni`) with etcd: real leader election, real
promotion, a synchronous standby, on 127.0.0.1.

Each member is one Patroni process running as the postgres user (the supervised process switches user
itself, so the PID we record is Patroni's, not a `runuser` wrapper's). Patroni starts the postmaster in
a session of its own (as pg_ctl does), outside Patroni's process group: once a member's PostgreSQL runs
we record the postmaster's PID too (`<member>-postmaster.pid`), so stopping a member, a crashed drill's
`recover` and `local down` all reach it.

Timings: `loop_wait` 1 s, `retry_timeout` 3 s and a leader `ttl` of 10 s (Patroni's rule: loop_wait +
2 x retry_timeout <= ttl). A member that dies without a word (SIGKILL) is replaced once its leader
lease expires, so a hard primary loss costs up to `ttl` plus an election; a clean Patroni stop deletes the
lease and fails over in about a second.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import json
import os
import pwd
import signal
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import requests
import yaml

from scaleplane.local.ha import etcd, patronimembers
from scaleplane.local.servers import binaries, ports, postgres, processes

PATRONI = binaries.Binary("patroni", Path("/usr/bin/patroni"), "patroni")


def postmaster_pid(data_dir: Path) -> int | None:
    """The running postmaster of `data_dir` (first line of its lock file), None if none runs."""
    try:
        pid = int((data_dir / "postmaster.pid").read_text().splitlines()[0])
    except (FileNotFoundError, IndexError, ValueError, PermissionError):
        return None
    return pid if processes.start_ticks(pid) is not None else None


def _record(pid_file: Path, name: str, pid: int) -> None:
    ticks = processes.start_ticks(pid)
    if ticks is None:
        return
    record = processes.PidRecord(name, pid, os.getpgid(pid), ticks, [])
    tmp = pid_file.with_suffix(".pid.tmp")
    tmp.write_text(json.dumps(asdict(record)))
    tmp.replace(pid_file)


class PatroniCluster:
    """etcd plus `size` Patroni members in `home`; the first bootstraps, the others join as replicas."""

    def __init__(
        self,
        home: Path,
        *,
        size: int = 3,
        synchronous: bool = True,
        timings: patronimembers.Timings | None = None,
    ) -> None:
        self.home = home
        self.size = size
        self.synchronous = synchronous
        self.timings = timings or patronimembers.Timings()
        self.etcd = etcd.EtcdServer(home / "etcd", run_dir=home)
        self.members: dict[str, patronimembers.Member] = {}

    @property
    def dsn(self) -> str:
        """The multi-host libpq DSN an application uses: it finds the read-write member by itself."""
        hosts = ",".join(f"{ports.HOST}:{m.pg_port}" for m in self.members.values())
        return f"postgresql://{postgres.SUPERUSER}@{hosts}/postgres?target_session_attrs=read-write"

    @property
    def any_dsn(self) -> str:
        hosts = ",".join(f"{ports.HOST}:{m.pg_port}" for m in self.members.values())
        return f"postgresql://{postgres.SUPERUSER}@{hosts}/postgres?target_session_attrs=any"

    def start(self, timeout: float = 90.0) -> PatroniCluster:
        bin_dir = binaries.require_postgres(binaries.postgres_bin_dir())
        binaries.require(PATRONI)
        postgres.check_reachable(self.home)
        self.home.mkdir(parents=True, exist_ok=True)
        self.home.chmod(0o755)
        self.etcd.start()
        for index in range(1, self.size + 1):
            name = f"pg{index}"
            self.members[name] = patronimembers.Member(
                name, self.home / name, ports.free_port(), ports.free_port()
            )
        first, *others = self.members.values()
        # The first member bootstraps alone: a second one started meanwhile could race it to init. Once
        # it leads, the others only clone it (each its own base backup), so they start together.
        self._launch(first, bin_dir)
        self.wait_for(lambda: self._running(first), timeout, f"{first.name} running")
        for member in others:
            self._launch(member, bin_dir)
        for member in others:
            self.wait_for(lambda m=member: self._running(m), timeout, f"{member.name} running")
        if self.synchronous:
            self.wait_for(lambda: self.sync_standby() is not None, timeout, "a synchronous standby")
        return self

    def join(self, member: patronimembers.Member, tags: dict[str, bool], timeout: float = 90.0) -> None:
        """Start a member that is not one of `members` (not in the DSN, not stopped by `stop`): it clones
        the leader and runs as a replica; `tags` (Patroni's nofailover, nosync...) say what it may become."""
        self._launch(member, tags=tags)
        self.wait_for(lambda: self._running(member), timeout, f"{member.name} running")

    def leave(self, member: patronimembers.Member) -> None:
        """Stop a member started by `join` (Patroni first, then whatever of its PostgreSQL remains)."""
        self._stop_member(member)

    def _launch(
        self, member: patronimembers.Member, bin_dir: Path | None = None, tags: dict[str, bool] | None = None
    ) -> None:
        bin_dir = bin_dir or binaries.postgres_bin_dir()
        member.home.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            entry = pwd.getpwnam(postgres.OWNER)
            os.chown(member.home, entry.pw_uid, entry.pw_gid)
        member.home.chmod(0o700)
        config = member.home / "patroni.yml"
        sync = self.synchronous
        settings = patronimembers.member_config(member, self.etcd.url, bin_dir, self.timings, sync)
        if tags is not None:
            # A member joining a running cluster: pg_basebackup's default spread checkpoint waits for
            # the leader's next one (minutes when idle); a fast one starts the copy at once.
            settings["postgresql"]["basebackup"] = [{"checkpoint": "fast"}]
        config.write_text(yaml.safe_dump({**settings, "tags": tags or {}}))
        config.chmod(0o644)
        member.process = processes.SupervisedProcess(
            member.name,
            [PATRONI.path, config],
            run_dir=self.home,
            log_path=self.home / f"{member.name}.log",
            user=postgres.OWNER,
            env={
                "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                "HOME": str(member.home),
                "LANG": "C.UTF-8",
            },
            cwd=member.home,
            stop_timeout=30.0,  # Patroni's own stop: a fast PostgreSQL shutdown first
        )
        member.process.start()

    def _running(self, member: patronimembers.Member) -> bool:
        if member.process is not None and member.process.exit_code() is not None:
            raise processes.ProcessFailed(f"patroni {member.name} exited", member.process.log_tail())
        running = member.status().get("state") == "running"
        if running:
            self.track_postmaster(member)
        return running

    def track_postmaster(self, member: patronimembers.Member) -> None:
        pid = postmaster_pid(member.data_dir)
        if pid is not None:
            _record(member.postmaster_pid_file, f"{member.name}-postmaster", pid)

    def wait_for(self, check: Any, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if check():
                    return
            except processes.ProcessFailed:
                raise
            except Exception:  # a member down or not answering yet: keep polling
                pass
            if time.monotonic() > deadline:
                raise processes.ProcessFailed(f"Patroni cluster: no {what} within {timeout:g} s")
            time.sleep(0.1)

    def topology(self) -> list[dict[str, Any]]:
        """GET /cluster from the first member that answers: every member's role, state, lag, timeline."""
        for member in self.members.values():
            try:
                members: list[dict[str, Any]] = requests.get(f"{member.api}/cluster", timeout=1).json()[
                    "members"
                ]
                return members
            except (requests.RequestException, ValueError, KeyError):
                continue
        return []

    def _role(self, role: str) -> str | None:
        return next(
            (
                m["name"]
                for m in self.topology()
                if m.get("role") == role and m.get("state") in ("running", "streaming")
            ),
            None,
        )

    def leader(self) -> str | None:
        return self._role("leader")

    def sync_standby(self) -> str | None:
        return self._role("sync_standby")

    def kill(self, name: str) -> None:
        """The member dies at once, as its machine would: SIGKILL to Patroni and to the postmaster's group."""
        member = self.members[name]
        self.track_postmaster(member)
        postmaster = processes.read_record(member.postmaster_pid_file)
        if member.process is not None and member.process.pid is not None:
            processes.end_group(member.process.pid, grace=0.0)
        if postmaster is not None and processes.is_leftover(postmaster):
            processes.end_group(postmaster.pgid, grace=0.0)
        if member.process is not None:
            member.process.stop()
        member.postmaster_pid_file.unlink(missing_ok=True)

    def pause(self, name: str, paused: bool) -> None:
        """SIGSTOP / SIGCONT the whole member (Patroni and PostgreSQL): alive, but silent."""
        member = self.members[name]
        sig = signal.SIGSTOP if paused else signal.SIGCONT
        self.track_postmaster(member)
        postmaster = processes.read_record(member.postmaster_pid_file)
        for pgid in (member.process.pid if member.process else None, postmaster.pgid if postmaster else None):
            if pgid is not None:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(pgid, sig)

    def restart(self, name: str) -> None:
        """Start a killed member again: Patroni rewinds or re-clones it and it rejoins as a replica."""
        member = self.members[name]
        if member.process is None or not member.process.running():
            self._launch(member)

    def switchover(self, candidate: str, timeout: float = 60.0) -> None:
        """Patroni's planned switchover (POST /switchover on the leader) to `candidate`."""
        leader = self.leader()
        if leader is None or leader == candidate:
            return
        response = requests.post(
            f"{self.members[leader].api}/switchover",
            json={"leader": leader, "candidate": candidate},
            timeout=30,
        )
        if response.status_code >= 300:
            raise processes.ProcessFailed(f"switchover to {candidate} refused: {response.text.strip()}")
        self.wait_for(lambda: self.leader() == candidate, timeout, f"{candidate} as leader")

    def stop(self) -> None:
        """Every member (Patroni stops its PostgreSQL first, all members at once), then etcd; whatever
        remains is ended."""
        for member in self.members.values():
            self.pause(member.name, False)  # a paused member cannot shut down
        with concurrent.futures.ThreadPoolExecutor(max(1, len(self.members))) as pool:
            list(pool.map(self._stop_member, self.members.values()))
        self.etcd.stop()

    def _stop_member(self, member: patronimembers.Member) -> None:
        if member.process is not None:
            member.process.stop()
        postmaster = processes.read_record(member.postmaster_pid_file)
        pid = postmaster_pid(member.data_dir)
        for pgid in {postmaster.pgid if postmaster else None, pid}:
            if pgid is not None:
                processes.end_group(pgid, grace=3.0)
        member.postmaster_pid_file.unlink(missing_ok=True)
