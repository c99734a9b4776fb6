"""The platform's database on Patroni (`scaleplane local up --ha-database`): the same role as the plain
primary (`servers.postgres.PostgresServer`), played by a Patroni cluster with etcd.

- `HaDatabase` is etcd plus two Patroni members, a leader and its synchronous standby (Patroni's
  `synchronous_mode`), so losing the leader loses no acknowledged commit. Its `dsn` is the multi-host
  libpq DSN with `target_session_attrs=read-write`: the sample app finds the current leader by itself,
  before and after a failover.
- The read-replica pool's members are Patroni members too (`create_replica` returns a `PatroniReplica`):
  each clones the leader through Patroni, streams from it, and carries the tags `nofailover` (never
  promoted: a pool member may be scaled away at any moment) and `nosync` (never the synchronous standby:
  scaling it down must not stall commits). They are not in the app's write DSN; the pool lists them in
  the app's read-pool file as it does plain replicas.

Every process is supervised with a PID record under the state directory (Patroni's own PID and the
postmaster's, see `ha.patroni`), so `local down`, the watchdog and a crash's leftovers sweep reach them.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from scaleplane.local.ha import patroni, patronimembers
from scaleplane.local.servers import ports, processes

# Pool members: never a failover candidate, never the synchronous standby.
POOL_TAGS = {"nofailover": True, "nosync": True}


class PatroniReplica:
    """A read-pool member that is a Patroni replica; the interface the pool uses of a plain replica."""

    def __init__(self, cluster: patroni.PatroniCluster, member: patronimembers.Member) -> None:
        self.cluster = cluster
        self.member = member
        self.name = member.name

    @property
    def port(self) -> int:
        return self.member.pg_port

    @property
    def dsn(self) -> str:
        return self.member.dsn

    @property
    def process(self) -> processes.SupervisedProcess | None:
        return self.member.process

    def start(self, timeout: float = 90.0) -> PatroniReplica:
        self.cluster.join(self.member, POOL_TAGS, timeout)
        return self

    def stop(self) -> None:
        self.cluster.leave(self.member)

    def destroy(self) -> None:
        """Stop Patroni (it stops its PostgreSQL) and delete the member's directory."""
        self.stop()
        shutil.rmtree(self.member.home, ignore_errors=True)


class HaDatabase:
    """etcd and a Patroni leader with a synchronous standby in `home`; the platform's primary."""

    name = "patroni"

    def __init__(self, home: Path, *, size: int = 2) -> None:
        self.cluster = patroni.PatroniCluster(home, size=size, synchronous=size > 1)

    @property
    def dsn(self) -> str:
        return self.cluster.dsn

    @property
    def leader_dsn(self) -> str:
        """The current leader's own DSN, for clients that cannot follow a multi-host DSN (lib/pq's
        postgres_exporter); the multi-host DSN when no leader is known."""
        leader = self.cluster.leader()
        return self.cluster.members[leader].dsn if leader in self.cluster.members else self.dsn

    def start(self, timeout: float = 90.0) -> HaDatabase:
        self.cluster.start(timeout)
        return self

    def stop(self) -> None:
        self.cluster.stop()

    def create_replica(
        self, data_dir: Path, *, name: str | None = None, start: bool = True, run_dir: Path | None = None
    ) -> PatroniReplica:
        """A Patroni member in `data_dir` (its PostgreSQL data in `data_dir/data`) that joins as a replica.

        `run_dir` is accepted for the plain replica's signature; Patroni's PID records live beside the
        cluster's (the postmaster's beside `data_dir`), all under the platform's state directory.
        """
        del run_dir
        if data_dir.exists():
            shutil.rmtree(data_dir)
        member = patronimembers.Member(name or data_dir.name, data_dir, ports.free_port(), ports.free_port())
        replica = PatroniReplica(self.cluster, member)
        if start:
            replica.start()
        return replica
