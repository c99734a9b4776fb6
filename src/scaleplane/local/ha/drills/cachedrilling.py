"""The local backend's cache steps: Redis with Sentinel, the Sentinel-aware probe, the real fault.

A part of `drilling.LocalBackend` (it shares its clock, probe, state directory and watchdog); one method
per step id of `scaleplane.drills.engine.scenarios.CACHE_PRIMARY_LOSS`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from scaleplane.drills.engine import backends
from scaleplane.drills.probing import caches, loops
from scaleplane.local import runfiles
from scaleplane.local.ha import sentinels

if TYPE_CHECKING:
    from scaleplane.local.ha.drills.drilling import LocalBackend

COMMANDS = {
    "start-cache": [
        "redis-server --port P --replicaof 127.0.0.1 PRIMARY_PORT ...; redis-sentinel servers/sentinelN.conf"
    ],
    "kill-cache-primary": ["kill -KILL REDIS_PID   # servers/redis1.pid"],
    "detect-cache-primary-down": ["redis-cli -p SENTINEL_PORT sentinel master scaleplane   # flags: o_down"],
    "decide-sentinel-quorum": ["redis-cli -p SENTINEL_PORT sentinel ckquorum scaleplane"],
    "await-sentinel-failover": ["redis-cli -p SENTINEL_PORT sentinel get-master-addr-by-name scaleplane"],
    "verify-writes-resume": ["redis-cli -p NEW_PRIMARY_PORT rpush scaleplane:drill:probe 0"],
    "verify-reads-resume": ["redis-cli -p REPLICA_PORT llen scaleplane:drill:probe"],
    "verify-acknowledged-writes": ["redis-cli -p NEW_PRIMARY_PORT llen scaleplane:drill:probe"],
    "rejoin-old-cache-primary": ["redis-server --port OLD_PORT ...   # Sentinel sends it REPLICAOF"],
    "stop-cache": ["scaleplane drill recover   # also ends what a killed drill left"],
}


class CacheSteps:
    def __init__(self, backend: LocalBackend) -> None:
        self.backend = backend
        self.group: sentinels.SentinelGroup | None = None
        self.primary: str | None = None

    def actions(self) -> dict[str, Callable[[float], backends.Outcome]]:
        return {
            "start-cache": self._start,
            "start-cache-probes": self._start_probes,
            "kill-cache-primary": self._kill,
            "detect-cache-primary-down": self._detect,
            "decide-sentinel-quorum": self._decide,
            "await-sentinel-failover": self._await_failover,
            "verify-acknowledged-writes": self.backend.check_data,
            "rejoin-old-cache-primary": self._rejoin,
            "stop-cache": self.backend.stop_everything,
        }

    def _group(self) -> sentinels.SentinelGroup:
        assert self.group is not None, "start-cache did not run"
        return self.group

    def _start(self, timeout: float) -> backends.Outcome:
        self.backend.claim()
        self.group = sentinels.SentinelGroup(runfiles.servers_dir(self.backend.state_dir))
        self.group.start(timeout=timeout)
        self.primary = self.group.nodes[0].name
        return backends.Outcome(
            True,
            f"primary {self.primary}, {len(self.group.nodes) - 1} replicas linked, "
            f"{len(self.group.sentinels)} sentinels agree",
        )

    def _start_probes(self, timeout: float) -> backends.Outcome:
        store = caches.RedisStore(self._group().sentinel_addresses)
        return self.backend.start_probe(loops.Probe(store, self.backend.clock), timeout)

    def _kill(self, timeout: float) -> backends.Outcome:
        assert self.primary is not None
        self.backend.victim = self.primary
        self._group().kill(self.primary)
        self.backend.fault_at = self.backend.clock.now()
        return backends.Outcome(True, f"{self.primary} killed", {"fault": self.backend.fault_at})

    def _detect(self, timeout: float) -> backends.Outcome:
        group, probe, since = self._group(), self.backend.probe, self.backend.fault_at
        assert probe is not None and since is not None and self.primary is not None
        port = group.node(self.primary).port

        def down() -> bool:
            try:
                sentinels.ping(port)
            except OSError:
                return probe.count("write", ok=False, since=since) > 0
            return False

        ok = self.backend.until(down, timeout)
        return backends.Outcome(
            bool(ok), f"{self.primary} does not answer; writes fail", {"detected": self.backend.clock.now()}
        )

    def _decide(self, timeout: float) -> backends.Outcome:
        def quorum() -> int:
            alive = self._group().reachable_sentinels()
            return alive if alive >= sentinels.QUORUM else 0

        alive = self.backend.until(quorum, timeout)
        return backends.Outcome(bool(alive), f"{alive or 0} sentinels answer (quorum {sentinels.QUORUM})")

    def _await_failover(self, timeout: float) -> backends.Outcome:
        group = self._group()
        old = group.node(self.primary or "").port
        port = self.backend.until(lambda: (p := group.sentinels_agree()) not in (None, old) and p, timeout)
        if not port:
            return backends.Outcome(False, f"the sentinels named no new primary within {timeout:g} s")
        return backends.Outcome(
            True, f"{group.name_of(port)} promoted by the sentinels", {"failover": self.backend.clock.now()}
        )

    def _rejoin(self, timeout: float) -> backends.Outcome:
        group = self._group()
        assert self.primary is not None
        group.restart(self.primary)

        def rejoined() -> int | None:
            # Asked again each time: right after the restart the sentinels may not all agree yet.
            new = group.sentinels_agree()
            linked = new is not None and group.linked_replicas(new) == len(group.nodes) - 1
            return new if linked and group.role(self.primary or "") == "slave" else None

        new = self.backend.until(rejoined, timeout)
        if not new:
            return backends.Outcome(
                False,
                f"{self.primary} is not a linked replica within {timeout:g} s "
                f"(role {group.role(self.primary)})",
            )
        return backends.Outcome(
            True,
            f"{self.primary} is a replica of {group.name_of(new)} again",
            {"fail back": self.backend.clock.now()},
        )
