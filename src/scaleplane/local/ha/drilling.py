"""The local drill backend: the database scenarios on a real Patroni cluster on this machine.

Each step id of `scaleplane.drills.scenarios` is one method here. Faults are real (SIGKILL of a whole
member: Patroni and its PostgreSQL); the failover is Patroni's. The state directory, PID records, the
watchdog and `recover` are in `drillfiles`.
"""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from scaleplane.drills import backends, clocks, probes, probing
from scaleplane.local import processes, runfiles, watchdog
from scaleplane.local.ha import cachedrilling, drillfiles, patroni, restoredrilling

SCENARIOS = ("db-primary-loss", "db-replica-loss", "cache-primary-loss", "restore-to-point-in-time")
STEADY = 25  # acknowledged probe operations after the fault that count as "writes work again"
COMMANDS = {
    "start-cluster": ["runuser -u postgres -- patroni servers/pgN/patroni.yml   # one per member"],
    "detect-primary-down": ["patronictl -c servers/pg1/patroni.yml list"],
    "detect-replica-down": ["patronictl -c servers/pg1/patroni.yml list"],
    "decide-failover-candidate": ["curl -s http://127.0.0.1:API_PORT/cluster   # role: sync_standby"],
    "decide-keep-primary": ["curl -s http://127.0.0.1:API_PORT/cluster   # role: leader"],
    "await-promotion": ["patronictl -c servers/pg1/patroni.yml list   # a new Leader, on a new TL"],
    "await-new-sync-standby": ["patronictl -c servers/pg1/patroni.yml list   # a new Sync Standby"],
    "kill-primary": ["kill -KILL PATRONI_PID -POSTMASTER_PID   # the whole member (servers/pgN*.pid)"],
    "kill-sync-standby": ["kill -KILL PATRONI_PID -POSTMASTER_PID   # the whole member (servers/pgN*.pid)"],
    "verify-writes-resume": [
        "psql 'postgresql://postgres@H1:P1,H2:P2,H3:P3/postgres?target_session_attrs=read-write' "
        "-c 'SELECT 1'"
    ],
    "verify-reads-resume": [
        "psql 'postgresql://postgres@H1:P1,H2:P2,H3:P3/postgres?target_session_attrs=prefer-standby' "
        "-c 'SELECT 1'"
    ],
    "verify-acknowledged-commits": [
        "psql '...target_session_attrs=read-write' -c 'SELECT count(*) FROM scaleplane_drill_probe'"
    ],
    "rejoin-old-primary": ["runuser -u postgres -- patroni servers/pgN/patroni.yml   # pg_rewind: by itself"],
    "rejoin-lost-replica": ["runuser -u postgres -- patroni servers/pgN/patroni.yml"],
    "stop-cluster": ["scaleplane drill recover   # also ends what a killed drill left"],
}


class LocalBackend:
    target = "local"

    def __init__(
        self,
        *,
        scenario: str,
        state_dir: Path = drillfiles.DEFAULT_STATE_DIR,
        synchronous: bool = True,
        clock: probing.Clock | None = None,
        members: int = 3,
    ) -> None:
        self.scenario = scenario
        self.state_dir = state_dir
        self.synchronous = synchronous
        self.clock = clock or clocks.WallClock()
        self.members = members
        self.cluster: patroni.PatroniCluster | None = None
        self.probe: probing.Probe | None = None
        self.watchdog: processes.SupervisedProcess | None = None
        self.before: dict[str, str | None] = {}
        self.victim: str | None = None
        self.fault_at: float | None = None
        self.claimed = False  # only a drill that claimed the state dir may clean it up
        self.actions: dict[str, Callable[[float], backends.Outcome]] = {
            "start-cluster": self._start_cluster,
            "start-probes": self._start_probes,
            "kill-primary": lambda t: self._kill("leader"),
            "kill-sync-standby": lambda t: self._kill("sync_standby"),
            "detect-primary-down": self._detect_primary_down,
            "detect-replica-down": self._detect_replica_down,
            "decide-failover-candidate": self._decide_candidate,
            "decide-keep-primary": self._decide_keep_primary,
            "await-promotion": self._await_promotion,
            "await-new-sync-standby": self._await_new_sync,
            "verify-writes-resume": lambda t: self._await_probe("write", t),
            "verify-reads-resume": lambda t: self._await_probe("read", t),
            "verify-acknowledged-commits": self.check_data,
            "rejoin-old-primary": self._rejoin,
            "rejoin-lost-replica": self._rejoin,
            "stop-cluster": self.stop_everything,
        }
        self.cache = cachedrilling.CacheSteps(self)
        self.restore = restoredrilling.RestoreSteps(self)
        self.actions.update(self.cache.actions())
        self.actions.update(self.restore.actions())

    # --- the Backend protocol -------------------------------------------------------------------------
    def supports(self, scenario: str) -> bool:
        return scenario in SCENARIOS

    def commands(self, step_id: str) -> list[str]:
        servers = f"{runfiles.servers_dir(self.state_dir)}/"
        table = {
            "cache-primary-loss": cachedrilling.COMMANDS,
            "restore-to-point-in-time": restoredrilling.COMMANDS,
        }.get(self.scenario, COMMANDS)
        return [command.replace("servers/", servers) for command in table.get(step_id, [])]

    def perform(self, step_id: str, timeout: float) -> backends.Outcome:
        action = self.actions.get(step_id)
        if action is None:
            return backends.Outcome(False, f"the local backend has no step {step_id!r}")
        return action(timeout)

    def probe_log(self) -> probes.ProbeLog:
        return self.probe.log() if self.probe is not None else probes.ProbeLog()

    # --- helpers ----------------------------------------------------------------------------------------
    def _cluster(self) -> patroni.PatroniCluster:
        assert self.cluster is not None, "start-cluster did not run"
        return self.cluster

    def until(self, check: Callable[[], Any], timeout: float, interval: float = 0.1) -> Any:
        """Poll `check` on the drill's clock until it returns something truthy; None on timeout."""
        deadline = self.clock.now() + timeout
        while True:
            try:
                value = check()
            except Exception:  # a member down, an API not answering yet: that is what a drill sees
                value = None
            if value:
                return value
            if self.clock.now() > deadline:
                return None
            self.clock.sleep(interval)
            if self.cluster is not None:
                for member in self.cluster.members.values():
                    self.cluster.track_postmaster(member)

    # --- actions ---------------------------------------------------------------------------------------
    def claim(self) -> None:
        """Own the state directory (refusing a busy or unclean one) and start the watchdog."""
        drillfiles.check_free(self.state_dir)
        self.claimed = True
        shutil.rmtree(runfiles.servers_dir(self.state_dir), ignore_errors=True)
        record = runfiles.claim(self.state_dir)
        drillfiles.marker(self.state_dir).write_text(
            json.dumps({"scenario": self.scenario, "pid": record.pid, "started": self.clock.now()})
        )
        self._start_watchdog(record)

    def _start_cluster(self, timeout: float) -> backends.Outcome:
        self.claim()
        self.cluster = patroni.PatroniCluster(
            runfiles.servers_dir(self.state_dir), size=self.members, synchronous=self.synchronous
        )
        self.cluster.start(timeout=timeout)
        self.before = {"leader": self.cluster.leader(), "sync_standby": self.cluster.sync_standby()}
        mode = "synchronous" if self.synchronous else "asynchronous"
        return backends.Outcome(
            True, f"leader {self.before['leader']}, sync standby {self.before['sync_standby']} ({mode})"
        )

    def _start_watchdog(self, controller: processes.PidRecord) -> None:
        argv = [
            sys.executable,
            "-m",
            "scaleplane.local.watchdog",
            "--state-dir",
            str(self.state_dir),
            "--pid",
            str(controller.pid),
            "--start-ticks",
            str(controller.start_ticks),
        ]
        servers = runfiles.servers_dir(self.state_dir)
        self.watchdog = processes.SupervisedProcess(watchdog.NAME, argv, run_dir=servers).start()

    def _start_probes(self, timeout: float) -> backends.Outcome:
        cluster = self._cluster()
        read_dsn = cluster.dsn.replace(
            "target_session_attrs=read-write", "target_session_attrs=prefer-standby"
        )
        return self.start_probe(probing.Probe(probing.SqlStore(cluster.dsn, read_dsn), self.clock), timeout)

    def start_probe(self, probe: probing.Probe, timeout: float, *, reads: bool = True) -> backends.Outcome:
        self.probe = probe
        probe.create_table()
        since = self.clock.now()
        probe.start(("write", "read") if reads else ("write",))

        def flowing() -> bool:
            writes = probe.count("write", ok=True, since=since) >= 20
            return writes and (not reads or probe.count("read", ok=True, since=since) > 0)

        ok = self.until(flowing, timeout)
        return backends.Outcome(bool(ok), f"{probe.count('write', ok=True, since=since)} writes acknowledged")

    def _kill(self, role: str) -> backends.Outcome:
        cluster = self._cluster()
        victim = self.before.get(role)
        if victim is None:
            return backends.Outcome(False, f"no {role} to kill")
        self.victim = victim
        cluster.kill(victim)
        # The fault's moment is when the member is gone: a write that got in before the last process
        # died was served by the old primary and proves nothing about recovery.
        self.fault_at = self.clock.now()
        return backends.Outcome(True, f"{victim} ({role}) killed", {"fault": self.fault_at})

    def _detect_primary_down(self, timeout: float) -> backends.Outcome:
        cluster, probe = self._cluster(), self.probe
        assert probe is not None and self.fault_at is not None
        since = self.fault_at

        victim = cluster.members[self.victim or ""]

        def seen() -> bool:
            try:
                victim.status()
            except Exception:  # its REST API does not answer: the member is down
                return probe.count("write", ok=False, since=since) > 0
            return False

        ok = self.until(seen, timeout)
        failed = probe.count("write", ok=False, since=since)
        return backends.Outcome(
            bool(ok), f"{failed} writes failed since the fault", {"detected": self.clock.now()}
        )

    def _detect_replica_down(self, timeout: float) -> backends.Outcome:
        victim = self._cluster().members[self.victim or ""]

        def down() -> bool:
            try:
                victim.status()
            except Exception:  # its REST API does not answer: the member is down
                return True
            return False

        ok = self.until(down, timeout)
        return backends.Outcome(bool(ok), f"{self.victim} does not answer", {"detected": self.clock.now()})

    def _decide_candidate(self, timeout: float) -> backends.Outcome:
        cluster, candidate = self._cluster(), self.before.get("sync_standby")
        member = cluster.members.get(candidate or "")
        ok = self.until(lambda: member is not None and member.status().get("state") == "running", timeout)
        return backends.Outcome(bool(ok), f"synchronous standby {candidate} is alive and will be promoted")

    def _decide_keep_primary(self, timeout: float) -> backends.Outcome:
        leader = self.until(self._cluster().leader, timeout)
        return backends.Outcome(leader == self.before.get("leader"), f"leader is {leader}")

    def _await_promotion(self, timeout: float) -> backends.Outcome:
        cluster = self._cluster()
        leader = self.until(
            lambda: (lambda name: name if name != self.victim else None)(cluster.leader()), timeout
        )
        if not leader:
            return backends.Outcome(False, f"no new leader within {timeout:g} s")
        expected = self.before.get("sync_standby")
        ok = leader == expected or not self.synchronous
        return backends.Outcome(
            ok,
            f"{leader} promoted (sync standby before the fault: {expected})",
            {"failover": self.clock.now()},
        )

    def _await_new_sync(self, timeout: float) -> backends.Outcome:
        cluster = self._cluster()
        sync = self.until(
            lambda: (lambda name: name if name != self.victim else None)(cluster.sync_standby()), timeout
        )
        return backends.Outcome(
            bool(sync), f"new synchronous standby: {sync}", {"failover": self.clock.now()}
        )

    def _await_probe(self, kind: str, timeout: float) -> backends.Outcome:
        probe = self.probe
        assert probe is not None and self.fault_at is not None
        since = self.fault_at
        # Recovery is a steady flow, not one lucky answer: wait for STEADY of them after the fault.
        ok = self.until(lambda: probe.count(kind, ok=True, since=since) >= STEADY, timeout, interval=0.05)
        done = [a.finished for a in probe.log().attempts if a.kind == kind and a.ok and a.started >= since]
        first = min(done, default=None)
        marks = {f"first {kind}": first} if first is not None else {}
        what = "acknowledged" if kind == "write" else "served"
        if first is None:
            return backends.Outcome(False, f"no {kind} {what} since the fault")
        return backends.Outcome(bool(ok), f"first {kind} {what} {first - since:.2f} s after the fault", marks)

    def check_data(self, timeout: float) -> backends.Outcome:
        probe = self.probe
        assert probe is not None
        probe.stop(timeout=min(timeout, 10))
        surviving = self.until(probe.check, timeout)
        log = probe.log()
        lost = [a.seq for a in log.acknowledged() if a.seq not in log.surviving]
        return backends.Outcome(
            surviving is not None,
            f"{len(log.acknowledged())} acknowledged, {len(log.surviving)} found, {len(lost)} lost",
        )

    def _rejoin(self, timeout: float) -> backends.Outcome:
        cluster = self._cluster()
        assert self.victim is not None
        cluster.restart(self.victim)

        def rejoined() -> bool:
            members = {m["name"]: m for m in cluster.topology()}
            me, leader = members.get(self.victim or ""), members.get(cluster.leader() or "")
            return bool(
                me
                and leader
                and me.get("role") != "leader"
                and me.get("state") in ("running", "streaming")
                and me.get("timeline") == leader.get("timeline")
                and me.get("lag") == 0
                and (cluster.sync_standby() is not None or not self.synchronous)
            )

        ok = self.until(rejoined, timeout, interval=0.25)
        return backends.Outcome(
            bool(ok),
            f"{self.victim} follows {cluster.leader()}; sync standby {cluster.sync_standby()}",
            {"fail back": self.clock.now()},
        )

    def stop_everything(self, timeout: float) -> backends.Outcome:
        if not self.claimed:
            return backends.Outcome(True, "nothing was started")
        if self.probe is not None:
            self.probe.stop(timeout=5)
        if self.watchdog is not None:
            self.watchdog.stop()
        if self.cluster is not None:
            self.cluster.stop()
        if self.cache.group is not None:
            self.cache.group.stop()
        if self.restore.server is not None:
            self.restore.server.stop()
        ended, postmasters = drillfiles.recover(self.state_dir)
        runfiles.release(self.state_dir)
        left = drillfiles.leftovers(self.state_dir)
        extra = f"; also ended {len(ended) + len(postmasters)} leftover(s)" if ended or postmasters else ""
        return backends.Outcome(not left, f"every drill process stopped{extra}")
