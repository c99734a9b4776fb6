"""The app's read pool: the replicas it may read from, or the primary when there are none.

Membership lives in a small JSON file that the platform rewrites (atomically) when a replica joins or
leaves: `{"members": [{"name": "replica-1", "dsn": "host=127.0.0.1 port=..."}]}`. The app polls it,
which keeps the app ignorant of who scales it, the way a service reads a DNS name or a config map.

Joining: a listed member is taken into rotation at once (the platform lists a replica only once it
streams and has caught up). Leaving: a member that disappears from the file gets no new reads; reads
already running on it finish (psycopg_pool closes a used connection only when it is returned), then its
pool closes. The platform drains a replica by delisting it and waiting until no client of this app
(`application_name` below) is connected to it, and only then stops it.
A read that fails on a replica (it was stopped under us anyway) is retried once on the primary, so the
client sees a slower answer, not an error; the failure is still counted per member.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import psycopg_pool

APPLICATION_NAME = "scaleplane-sample"
PRIMARY = "primary"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Member:
    name: str
    dsn: str


def write_members(path: Path, members: list[Member]) -> None:
    """Atomically replace the membership file (write a sibling, then rename over it)."""
    payload = {"members": [{"name": m.name, "dsn": m.dsn} for m in members]}
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(payload, indent=2))
    os.replace(tmp, path)


def read_members(path: Path) -> list[Member]:
    """The members listed in `path`; none when the file does not exist yet."""
    try:
        data: Any = json.loads(path.read_text())
    except FileNotFoundError:
        return []
    return [Member(name=str(m["name"]), dsn=str(m["dsn"])) for m in data.get("members", [])]


def _pool(name: str, dsn: str, max_size: int) -> psycopg_pool.AsyncConnectionPool:
    return psycopg_pool.AsyncConnectionPool(
        dsn,
        name=name,
        min_size=1,
        max_size=max_size,
        open=False,
        timeout=5.0,
        kwargs={"application_name": APPLICATION_NAME, "autocommit": True, "connect_timeout": 3},
    )


class ReadPool:
    """Round-robin reads over the listed members; the primary when none is listed."""

    def __init__(self, primary_dsn: str, members_file: Path | None, *, max_per_member: int = 4) -> None:
        self._primary = _pool(PRIMARY, primary_dsn, max_per_member)
        self._members_file = members_file
        self._max_per_member = max_per_member
        self._pools: dict[str, psycopg_pool.AsyncConnectionPool] = {}
        self._dsns: dict[str, str] = {}
        self._rotation: itertools.cycle[str] | None = None
        self._draining: set[asyncio.Task[None]] = set()
        self.in_flight: dict[str, int] = {}
        self._mtime: float | None = None

    @property
    def members(self) -> list[str]:
        return sorted(self._pools)

    async def open(self) -> None:
        await self._primary.open(wait=True, timeout=10)
        await self.refresh()

    async def close(self) -> None:
        for name in list(self._pools):
            self._leave(name)
        await asyncio.gather(*self._draining, return_exceptions=True)
        await self._primary.close()

    async def refresh(self) -> None:
        """Re-read the membership file if it changed; join new members, drain departed ones."""
        if self._members_file is None:
            return
        try:
            mtime = self._members_file.stat().st_mtime
        except FileNotFoundError:
            mtime = None
        if mtime == self._mtime:
            return
        self._mtime = mtime
        try:
            wanted = {m.name: m.dsn for m in read_members(self._members_file)}
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("ignoring unreadable read-pool file %s: %s", self._members_file, exc)
            return
        for name in [n for n in self._pools if wanted.get(n) != self._dsns.get(n)]:
            self._leave(name)
        for name, dsn in wanted.items():
            if name not in self._pools:
                pool = _pool(name, dsn, self._max_per_member)
                await pool.open(wait=False)
                self._pools[name], self._dsns[name] = pool, dsn
                log.info("read pool: %s joined", name)
        self._rotation = itertools.cycle(sorted(self._pools)) if self._pools else None

    def _leave(self, name: str) -> None:
        pool = self._pools.pop(name)
        self._dsns.pop(name, None)
        self._rotation = itertools.cycle(sorted(self._pools)) if self._pools else None
        task = asyncio.create_task(pool.close(timeout=10.0))
        self._draining.add(task)
        task.add_done_callback(self._draining.discard)
        log.info("read pool: %s left (draining)", name)

    async def watch(self, interval: float = 0.5) -> None:
        while True:
            with contextlib.suppress(OSError):
                await self.refresh()
            await asyncio.sleep(interval)

    @contextlib.asynccontextmanager
    async def _use(self, name: str, pool: psycopg_pool.AsyncConnectionPool) -> AsyncIterator[Any]:
        self.in_flight[name] = self.in_flight.get(name, 0) + 1
        try:
            async with pool.connection() as conn:
                yield conn
        finally:
            self.in_flight[name] -= 1

    async def fetch_one(self, query: str, params: tuple[Any, ...]) -> tuple[str, Any, list[str]]:
        """Run a read; returns (member that answered, the row, members that failed on the way)."""
        failed: list[str] = []
        name = next(self._rotation) if self._rotation is not None else PRIMARY
        pool = self._pools.get(name)
        if pool is not None:
            try:
                async with self._use(name, pool) as conn:
                    row = await (await conn.execute(query, params)).fetchone()
                return name, row, failed
            except (psycopg.Error, psycopg_pool.PoolTimeout, psycopg_pool.PoolClosed) as exc:
                log.warning("read on %s failed, retrying on the primary: %s", name, exc)
                failed.append(name)
        async with self._use(PRIMARY, self._primary) as conn:
            row = await (await conn.execute(query, params)).fetchone()
        return PRIMARY, row, failed
