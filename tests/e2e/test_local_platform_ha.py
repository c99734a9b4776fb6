"""The local platform on the HA database (`ha_database`, `scaleplane local up --ha-database`), real servers.

One platform run on etcd + Patroni (a leader and its synchronous standby), its read-replica pool driven
directly (the control loop's scaling is the plain platform e2e's subject; here the pool's members are
what changes):
- the sample app is given the multi-host DSN with target_session_attrs=read-write, and a write through
  that DSN lands on the Patroni leader;
- the pool scales a replica up: a Patroni member tagged nofailover/nosync, streaming the leader, listed
  in the app's read pool, which serves the app's reads;
- after a Patroni switchover the same DSN writes on the new leader, and the pool's replica follows it;
- the pool scales the replica down: it leaves the Patroni cluster;
- after the platform stops, none of the processes it ran is alive (Patroni, postmasters, etcd included).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import psycopg
import pytest
import requests

from scaleplane.local import platform, runfiles
from scaleplane.local.ha import hadatabases
from scaleplane.local.pools import targetkinds
from scaleplane.local.servers import processes
from tests.support import waiting

pytestmark = [pytest.mark.servers, pytest.mark.slow, pytest.mark.timeout(300)]

READS = f"""
apiVersion: scaleplane.io/v1alpha1
kind: ScalingPolicy
metadata: {{name: read-replicas}}
spec:
  targetRef: {{kind: ReadReplicaPool, name: read-replicas}}
  minReplicas: 0
  maxReplicas: 2
  metrics:
    - {{name: reads, query: '{targetkinds.READ_RATE_QUERY}', target: {{type: AverageValue, value: 40}}}}
"""


def write_probe(dsn: str, n: int) -> int:
    """Insert row `n` through `dsn`; the port of the server that took the write."""
    with psycopg.connect(dsn, autocommit=True, connect_timeout=5) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS probe (n int PRIMARY KEY)")
        conn.execute("INSERT INTO probe VALUES (%s)", (n,))
        port: int = conn.execute("SELECT inet_server_port()").fetchone()[0]  # type: ignore[index]
    return port


def has_probe(dsn: str, n: int) -> bool:
    with psycopg.connect(dsn, autocommit=True, connect_timeout=2) as conn:
        return conn.execute("SELECT count(*) FROM probe WHERE n = %s", (n,)).fetchone() == (1,)


async def test_the_platform_runs_on_patroni_and_its_replicas_join_it(workdir: Path) -> None:
    policy = workdir / "reads.yaml"
    policy.write_text(READS)
    config = platform.PlatformConfig(
        state_dir=workdir / "state", policies=policy, tick_seconds=1.0, ha_database=True
    )
    async with platform.Platform(config) as running:
        assert running.servers is not None and running.servers.app is not None
        db = running.servers.primary
        assert isinstance(db, hadatabases.HaDatabase)
        cluster = db.cluster
        assert cluster.leader() == "pg1" and cluster.sync_standby() == "pg2"
        app_argv = Path(f"/proc/{running.servers.app.pid}/cmdline").read_bytes().split(b"\0")
        assert db.dsn.encode() in app_argv and "target_session_attrs=read-write" in db.dsn
        assert write_probe(db.dsn, 1) == cluster.members["pg1"].pg_port

        replicas = running.targets["ReadReplicaPool/read-replicas"]
        await replicas.scale(1)
        await replicas.wait_ready(1, timeout=90)
        joined = {m["name"]: m for m in cluster.topology()}["read-replicas-1"]
        assert joined["role"] == "replica" and joined["tags"] == hadatabases.POOL_TAGS
        replica = replicas.members["read-replicas-1"].handle  # type: ignore[attr-defined]
        assert has_probe(replica.dsn, 1)

        async def app_reads_from_it() -> bool:
            for item in range(1, 40):  # items not cached yet: each is a read on the read pool
                await asyncio.to_thread(requests.get, f"{running.app_url}/items/{item}", timeout=5)
            pool = (await asyncio.to_thread(requests.get, f"{running.app_url}/readpool", timeout=5)).json()
            return "read-replicas-1" in str(pool)

        await waiting.eventually(app_reads_from_it, 15, "the app's read pool lists the Patroni replica")
        seen = runfiles.live_records(running.state_dir)

        await asyncio.to_thread(cluster.switchover, "pg2")
        assert await asyncio.to_thread(write_probe, db.dsn, 2) == cluster.members["pg2"].pg_port

        async def replica_follows() -> bool:
            return await asyncio.to_thread(has_probe, replica.dsn, 2)

        await waiting.eventually(replica_follows, 30, "the pool's replica streams from the new leader")

        await replicas.scale(0)

        async def left() -> bool:
            names = {m["name"] for m in await asyncio.to_thread(cluster.topology)}
            return (await replicas.read()).current == 0 and "read-replicas-1" not in names

        await waiting.eventually(left, 40, "the replica leaves the Patroni cluster")

    names = {r.name for r in seen}
    assert {"etcd", "pg1", "pg2", "read-replicas-1", "sample-app"} <= names, names
    assert {"pg1-postmaster", "read-replicas-1-postmaster"} <= names, names
    assert [r.name for r in seen if r.name != "controller" and processes.alive(r)] == []
    assert runfiles.live_records(config.state_dir) == []
