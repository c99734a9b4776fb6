"""Read-replica pool: real PostgreSQL replicas of the primary, made with `pg_basebackup -R`.

Scale up, per replica: a base backup of the primary into `<state_dir>/<pool>/<member>/`, started on a
free port; ready only once its WAL receiver is `streaming` and its replay is within `max_lag_bytes` of
the primary. Then it joins the sample app's read pool: the JSON file `read_pool_file`
(`scaleplane.local.app.readpool`, `{"members": [{"name", "dsn"}]}`), rewritten atomically; the app
polls it and reads round-robin from its members, or from the primary when it is empty (0 replicas).

Scale down, per replica: it leaves the read pool file first, then the pool waits at least `grace`
(longer than the app's poll of the file) and until no other client is connected to the replica (the
app closes a departed member's connections once its in-flight reads return), at most `drain_timeout`;
only then the replica is stopped (fast shutdown) and its data directory deleted. In-flight reads
therefore finish on the replica they started on.

The primary is either a plain PostgreSQL server or the Patroni cluster of `--ha-database`
(`ha.hadatabases`, whose replicas are Patroni members tagged nofailover): both meet `Primary`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import time
from pathlib import Path
from typing import Any, Protocol

from scaleplane.local.app import readpool
from scaleplane.local.pools import members
from scaleplane.local.servers import ports, postgres, processes, replication

log = logging.getLogger(__name__)
CATCH_UP_TIMEOUT = 60.0


class Replica(Protocol):
    name: str

    @property
    def port(self) -> int: ...

    @property
    def dsn(self) -> str: ...

    @property
    def process(self) -> processes.SupervisedProcess | None: ...

    def start(self, timeout: float = ...) -> object: ...

    def destroy(self) -> None: ...


class Primary(Protocol):
    @property
    def dsn(self) -> str: ...

    def create_replica(
        self, data_dir: Path, *, name: str | None = ..., start: bool = ..., run_dir: Path | None = ...
    ) -> Replica: ...


class ReadReplicaPool(members.Pool):
    kind = "ReadReplicaPool"

    def __init__(
        self,
        name: str,
        state_dir: Path,
        *,
        primary: Primary,
        read_pool_file: Path,
        database: str = "postgres",
        max_lag_bytes: int = 1 << 20,
        grace: float = 1.0,
        drain_timeout: float = 15.0,
        max_replicas: int = 8,
    ) -> None:
        super().__init__(name, state_dir, max_replicas=max_replicas)
        self.primary = primary
        self.read_pool_file = read_pool_file
        self.database = database
        self.max_lag_bytes = max_lag_bytes
        self.grace = grace
        self.drain_timeout = drain_timeout

    def dsn(self, server: Replica) -> str:
        """The libpq DSN the app uses for a member (the same database as on the primary)."""
        return f"host={ports.HOST} port={server.port} user={postgres.SUPERUSER} dbname={self.database}"

    def replicas(self) -> list[Replica]:
        """Ready members' servers, oldest first."""
        ready = sorted((m for m in self.members.values() if m.ready and not m.leaving), key=lambda m: m.index)
        return [m.handle for m in ready]

    async def _bring_up(self, member: members.Member) -> None:
        data_dir = self.run_dir / member.name
        replica: Replica = await self._thread(
            member, self.primary.create_replica, data_dir, name=member.name, start=False, run_dir=self.run_dir
        )
        member.handle = replica
        await self._thread(member, replica.start)
        deadline = time.monotonic() + CATCH_UP_TIMEOUT
        status, lag = None, None
        while True:
            with contextlib.suppress(Exception):
                status = await asyncio.to_thread(replication.receiver_status, replica.dsn)
                if status == "streaming":
                    lag = await asyncio.to_thread(replication.replay_lag_bytes, self.primary.dsn, replica.dsn)
                    if lag <= self.max_lag_bytes:
                        return
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"not streaming and caught up within {CATCH_UP_TIMEOUT:g} s "
                    f"(receiver {status}, replay lag {lag} bytes, bound {self.max_lag_bytes})"
                )
            await asyncio.sleep(0.1)

    def _membership_changed(self) -> None:
        members = [readpool.Member(name=server.name, dsn=self.dsn(server)) for server in self.replicas()]
        self.read_pool_file.parent.mkdir(parents=True, exist_ok=True)
        readpool.write_members(self.read_pool_file, members)

    async def _take_down(self, member: members.Member) -> None:
        replica: Replica | None = member.handle
        if replica is not None and member.served and self._alive(member):
            await asyncio.sleep(self.grace)
            deadline = time.monotonic() + self.drain_timeout
            while time.monotonic() < deadline:
                try:
                    if await asyncio.to_thread(replication.other_clients, replica.dsn) == 0:
                        break
                except Exception:
                    break  # it is not answering: nothing to drain
                await asyncio.sleep(0.1)
            else:
                log.warning("%s: clients still connected after %g s; stopping anyway", member.name,
                            self.drain_timeout)  # fmt: skip
        await self._stop(member)

    def _alive(self, member: members.Member) -> bool:
        replica: Replica | None = member.handle
        return replica is not None and replica.process is not None and replica.process.running()

    async def _stop(self, member: members.Member) -> None:
        replica: Replica | None = member.handle
        if replica is not None:
            await asyncio.to_thread(replica.destroy)
        else:
            await asyncio.to_thread(shutil.rmtree, self.run_dir / member.name, True)

    async def _cleanup_leftovers(self) -> None:
        # Replicas of a crashed run: their processes were ended by PID file; their data is useless.
        for data_dir in self.run_dir.iterdir():
            if data_dir.is_dir() and data_dir.name.startswith(f"{self.name}-"):
                await asyncio.to_thread(shutil.rmtree, data_dir, True)
        self._membership_changed()

    def _describe(self, member: members.Member) -> dict[str, Any]:
        replica: Replica | None = member.handle
        return {"port": replica.port if replica else None, "dsn": self.dsn(replica) if replica else None}
