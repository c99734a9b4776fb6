"""The local backend's database steps: PostgreSQL under Patroni with etcd, a synchronous standby, the SQL
probes through the multi-host DSN, and the real fault (SIGKILL of a whole member: Patroni and its
PostgreSQL). The failover is Patroni's; these methods inject, watch and read what Patroni says.

A part of `drilling.LocalBackend` (its clock, probe, state directory and watchdog); one method per step
id of `scaleplane.drills.engine.scenarios.DB_PRIMARY_LOSS` and `DB_REPLICA_LOSS`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from scaleplane.drills.engine import backends
from scaleplane.drills.probing import databases, loops
from scaleplane.local import runfiles
from scaleplane.local.ha import patroni
from scaleplane.local.ha.drills import alertwatching
from scaleplane.local.servers import ports

if TYPE_CHECKING:
    from scaleplane.local.ha.drills.drilling import LocalBackend

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


class PatroniSteps:
    def __init__(self, backend: LocalBackend) -> None:
        self.backend = backend
        self.cluster: patroni.PatroniCluster | None = None
        self.before: dict[str, str | None] = {}

    def actions(self) -> dict[str, Callable[[float], backends.Outcome]]:
        return {
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
            "rejoin-old-primary": self._rejoin,
            "rejoin-lost-replica": self._rejoin,
        }

    def _cluster(self) -> patroni.PatroniCluster:
        assert self.cluster is not None, "start-cluster did not run"
        return self.cluster

    def _start_cluster(self, timeout: float) -> backends.Outcome:
        self.backend.claim()
        self.cluster = patroni.PatroniCluster(
            runfiles.servers_dir(self.backend.state_dir),
            size=self.backend.members,
            synchronous=self.backend.synchronous,
        )
        self.cluster.start(timeout=timeout)
        # Detection: Patroni's /metrics on every member, the project's rules (ScaleplaneDatabaseNoPrimary).
        servers = runfiles.servers_dir(self.backend.state_dir)
        alerts = alertwatching.AlertWatch(self.backend.state_dir, servers, ("ScaleplaneDatabaseNoPrimary",))
        self.backend.alerts = alerts.start()
        alerts.watch("patroni", [f"{ports.HOST}:{m.api_port}" for m in self.cluster.members.values()])
        self.before = {"leader": self.cluster.leader(), "sync_standby": self.cluster.sync_standby()}
        mode = "synchronous" if self.backend.synchronous else "asynchronous"
        return backends.Outcome(
            True, f"leader {self.before['leader']}, sync standby {self.before['sync_standby']} ({mode})"
        )

    def _start_probes(self, timeout: float) -> backends.Outcome:
        cluster = self._cluster()
        read_dsn = cluster.dsn.replace(
            "target_session_attrs=read-write", "target_session_attrs=prefer-standby"
        )
        return self.backend.start_probe(
            loops.Probe(databases.SqlStore(cluster.dsn, read_dsn), self.backend.clock), timeout
        )

    def _kill(self, role: str) -> backends.Outcome:
        cluster = self._cluster()
        victim = self.before.get(role)
        if victim is None:
            return backends.Outcome(False, f"no {role} to kill")
        self.backend.victim = victim
        cluster.kill(victim)
        # The fault's moment is when the member is gone: a write that got in before the last process
        # died was served by the old primary and proves nothing about recovery.
        self.backend.fault_at = self.backend.clock.now()
        return backends.Outcome(True, f"{victim} ({role}) killed", {"fault": self.backend.fault_at})

    def _detect_primary_down(self, timeout: float) -> backends.Outcome:
        cluster, probe = self._cluster(), self.backend.probe
        assert probe is not None and self.backend.fault_at is not None
        since = self.backend.fault_at

        victim = cluster.members[self.backend.victim or ""]

        def seen() -> bool:
            try:
                victim.status()
            except Exception:  # its REST API does not answer: the member is down
                return probe.count("write", ok=False, since=since) > 0
            return False

        ok = self.backend.until(seen, timeout)
        failed = probe.count("write", ok=False, since=since)
        return backends.Outcome(
            bool(ok), f"{failed} writes failed since the fault", {"detected": self.backend.clock.now()}
        )

    def _detect_replica_down(self, timeout: float) -> backends.Outcome:
        victim = self._cluster().members[self.backend.victim or ""]

        def down() -> bool:
            try:
                victim.status()
            except Exception:  # its REST API does not answer: the member is down
                return True
            return False

        ok = self.backend.until(down, timeout)
        return backends.Outcome(
            bool(ok), f"{self.backend.victim} does not answer", {"detected": self.backend.clock.now()}
        )

    def _decide_candidate(self, timeout: float) -> backends.Outcome:
        cluster, candidate = self._cluster(), self.before.get("sync_standby")
        if not self.backend.synchronous:
            # Asynchronous: Patroni promotes the healthiest replica within maximum_lag_on_failover, and
            # what it had not received is lost: the data check says how much.
            alive = self.backend.until(
                lambda: [
                    m
                    for n, m in cluster.members.items()
                    if n != self.backend.victim and m.status().get("state") == "running"
                ],
                timeout,
            )
            names = ", ".join(m.name for m in alive or [])
            return backends.Outcome(
                bool(alive), f"asynchronous: Patroni promotes the least lagging of {names}"
            )
        member = cluster.members.get(candidate or "")
        ok = self.backend.until(
            lambda: member is not None and member.status().get("state") == "running", timeout
        )
        return backends.Outcome(bool(ok), f"synchronous standby {candidate} is alive and will be promoted")

    def _decide_keep_primary(self, timeout: float) -> backends.Outcome:
        leader = self.backend.until(self._cluster().leader, timeout)
        return backends.Outcome(leader == self.before.get("leader"), f"leader is {leader}")

    def _await_promotion(self, timeout: float) -> backends.Outcome:
        cluster = self._cluster()
        leader = self.backend.until(
            lambda: (lambda name: name if name != self.backend.victim else None)(cluster.leader()), timeout
        )
        if not leader:
            return backends.Outcome(False, f"no new leader within {timeout:g} s")
        expected = self.before.get("sync_standby")
        ok = leader == expected or not self.backend.synchronous
        return backends.Outcome(
            ok,
            f"{leader} promoted (sync standby before the fault: {expected})",
            {"failover": self.backend.clock.now()},
        )

    def _await_new_sync(self, timeout: float) -> backends.Outcome:
        cluster = self._cluster()
        sync = self.backend.until(
            lambda: (lambda name: name if name != self.backend.victim else None)(cluster.sync_standby()),
            timeout,
        )
        return backends.Outcome(
            bool(sync), f"new synchronous standby: {sync}", {"failover": self.backend.clock.now()}
        )

    def _rejoin(self, timeout: float) -> backends.Outcome:
        cluster = self._cluster()
        assert self.backend.victim is not None
        cluster.restart(self.backend.victim)

        def rejoined() -> bool:
            members = {m["name"]: m for m in cluster.topology()}
            me, leader = members.get(self.backend.victim or ""), members.get(cluster.leader() or "")
            return bool(
                me
                and leader
                and me.get("role") != "leader"
                and me.get("state") in ("running", "streaming")
                and me.get("timeline") == leader.get("timeline")
                and me.get("lag") == 0
                and (cluster.sync_standby() is not None or not self.backend.synchronous)
            )

        ok = self.backend.until(rejoined, timeout, interval=0.25)
        return backends.Outcome(
            bool(ok),
            f"{self.backend.victim} follows {cluster.leader()}; sync standby {cluster.sync_standby()}",
            {"fail back": self.backend.clock.now()},
        )
