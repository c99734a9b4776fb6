"""The read-replica pool on a real primary: replicas stream, catch up, join the app's read pool, serve
reads, and leave without failing a read in flight; nothing of them remains after scale down."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from scaleplane.local.app import readpool
from scaleplane.local.pools import replicas
from scaleplane.local.servers import postgres, replication

DATABASE = "replica_pool_tests"


@pytest.fixture
def app_database(postgres_primary: postgres.PostgresServer) -> str:
    with postgres_primary.connect() as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,)).fetchone():
            conn.execute(f"CREATE DATABASE {DATABASE}")
    with postgres_primary.connect(DATABASE) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS items (id int PRIMARY KEY, name text)")
        conn.execute(
            "INSERT INTO items SELECT g, 'item-' || g FROM generate_series(1, 100) g ON CONFLICT DO NOTHING"
        )
    return DATABASE


@pytest.fixture
async def pool(
    postgres_primary: postgres.PostgresServer, servers_dir: Path, app_database: str
) -> AsyncIterator[replicas.ReadReplicaPool]:
    state_dir = servers_dir / f"state-{uuid.uuid4().hex[:8]}"
    pool = replicas.ReadReplicaPool(
        "readers", state_dir, primary=postgres_primary, read_pool_file=state_dir / "readpool.json",
        database=app_database, grace=0.6, drain_timeout=10,
    )  # fmt: skip
    await pool.open(0)
    try:
        yield pool
    finally:
        await pool.close()


@contextlib.asynccontextmanager
async def app_reads(
    primary: postgres.PostgresServer, pool: replicas.ReadReplicaPool
) -> AsyncIterator[readpool.ReadPool]:
    """The sample app's own read pool, following the pool file as the app does."""
    reads = readpool.ReadPool(primary.dsn_for(DATABASE), pool.read_pool_file)
    await reads.open()
    watcher = asyncio.create_task(reads.watch(interval=0.2))
    try:
        yield reads
    finally:
        watcher.cancel()
        await reads.close()


def pid_gone(pid: int) -> bool:
    return not os.path.exists(f"/proc/{pid}") or " Z " in Path(f"/proc/{pid}/stat").read_text()


async def test_zero_replicas_means_reads_go_to_the_primary(
    pool: replicas.ReadReplicaPool, postgres_primary: postgres.PostgresServer
) -> None:
    assert readpool.read_members(pool.read_pool_file) == []
    async with app_reads(postgres_primary, pool) as reads:
        served_by, row, failed = await reads.fetch_one("SELECT name FROM items WHERE id = %s", (7,))
    assert (served_by, row, failed) == (readpool.PRIMARY, ("item-7",), [])


async def test_new_replica_streams_catches_up_joins_and_serves_reads(
    pool: replicas.ReadReplicaPool, postgres_primary: postgres.PostgresServer
) -> None:
    with postgres_primary.connect(DATABASE) as conn:
        conn.execute("INSERT INTO items VALUES (1000, 'written-before-scale-up') ON CONFLICT DO NOTHING")
    await pool.scale(1)
    assert (await pool.read()).current == 1
    await pool.wait_ready(1, timeout=60)
    [replica] = pool.replicas()
    assert replication.receiver_status(replica.dsn) == "streaming"
    assert replication.replay_lag_bytes(postgres_primary.dsn, replica.dsn) <= pool.max_lag_bytes
    assert replica.name in [s.name for s in replication.standbys(postgres_primary.dsn)]
    assert readpool.read_members(pool.read_pool_file) == [readpool.Member(replica.name, pool.dsn(replica))]

    before = replication.read_load(replica.dsn_for(DATABASE), DATABASE).transactions
    async with app_reads(postgres_primary, pool) as reads:
        answers = [await reads.fetch_one("SELECT name FROM items WHERE id = %s", (1000,)) for _ in range(10)]
    assert {a[0] for a in answers} == {replica.name}, "with one replica, every read goes to it"
    assert all(a[1] == ("written-before-scale-up",) and a[2] == [] for a in answers)
    after = replication.read_load(replica.dsn_for(DATABASE), DATABASE).transactions
    assert after - before >= 10, "the replica's own statistics show the reads"


async def test_scale_down_drains_in_flight_reads_then_stops_the_replica(
    pool: replicas.ReadReplicaPool, postgres_primary: postgres.PostgresServer
) -> None:
    await pool.scale(2)
    await pool.wait_ready(2, timeout=60)
    servers = pool.replicas()
    pids = [s.process.pid for s in servers if s.process and s.process.pid]
    data_dirs = [s.data_dir for s in servers]
    async with app_reads(postgres_primary, pool) as reads:
        results: list[tuple[str, object, list[str]]] = []

        async def reader() -> None:
            for n in range(12):
                results.append(
                    await reads.fetch_one("SELECT name FROM items, pg_sleep(0.15) WHERE id = %s", (n + 1,))
                )

        readers = [asyncio.create_task(reader()) for _ in range(4)]
        await asyncio.sleep(0.5)  # reads are now running on both replicas
        await pool.scale(0)
        assert (await pool.read()).ready == 0
        await asyncio.gather(*readers)
        await pool.wait_ready(0, timeout=30)
    assert len(results) == 48
    assert [r for r in results if r[2]] == [], "a read failed on a replica that was being removed"
    served = {r[0] for r in results}
    assert {s.name for s in servers} <= served and readpool.PRIMARY in served
    assert all(pid_gone(pid) for pid in pids)
    assert not any(d.exists() for d in data_dirs)
    assert readpool.read_members(pool.read_pool_file) == []


async def test_a_replica_that_dies_leaves_the_read_pool_and_is_replaced(
    pool: replicas.ReadReplicaPool,
) -> None:
    await pool.scale(1)
    await pool.wait_ready(1, timeout=60)
    [dead] = pool.replicas()
    assert dead.process is not None and dead.process.pid is not None
    os.kill(dead.process.pid, signal.SIGKILL)
    while dead.process.running():
        await asyncio.sleep(0.05)
    assert (await pool.read()).ready == 0
    assert dead.name not in [m.name for m in readpool.read_members(pool.read_pool_file)]
    await pool.wait_ready(1, timeout=60)
    [replacement] = pool.replicas()
    assert replacement.name != dead.name
    assert readpool.read_members(pool.read_pool_file) == [
        readpool.Member(replacement.name, pool.dsn(replacement))
    ]
    assert not dead.data_dir.exists()


def processes_under(path: Path) -> list[int]:
    """Live processes whose command line mentions `path` (a replica's postmaster names its data dir)."""
    found = []
    for entry in Path("/proc").iterdir():
        with contextlib.suppress(OSError):
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            if entry.name.isdigit() and str(path) in cmdline and " Z " not in (entry / "stat").read_text():
                found.append(int(entry.name))
    return found


async def test_scale_down_while_a_replica_is_still_being_made_leaves_nothing(
    pool: replicas.ReadReplicaPool,
) -> None:
    await pool.scale(2)
    await asyncio.sleep(0.3)  # base backups under way, nothing ready yet
    await pool.scale(0)
    await pool.wait_ready(0, timeout=60)
    assert processes_under(pool.run_dir) == []
    assert [p.name for p in pool.run_dir.iterdir() if p.is_dir()] == []
    assert readpool.read_members(pool.read_pool_file) == []
