"""The sample app on real servers: cache, jobs, and a read pool that joins and drains replicas."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from aiohttp import test_utils

from scaleplane.local.app import api, jobs, readpool
from scaleplane.local.servers import postgres


def replica_reads(server: postgres.PostgresServer) -> int:
    """Transactions the replica served to the sample app's database (pg_stat_database)."""
    return int(server.fetch_one("SELECT xact_commit FROM pg_stat_database WHERE datname = 'postgres'"))


@pytest.fixture
async def client(
    postgres_primary: postgres.PostgresServer, redis_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[test_utils.TestClient, Path]]:
    monkeypatch.setattr(jobs.app.conf, "broker_url", redis_db)
    await api.ensure_schema(postgres_primary.dsn, rows=500)
    members_file = tmp_path / "readpool.json"
    pool = readpool.ReadPool(postgres_primary.dsn, members_file)
    app = api.build_app(pool, aioredis.from_url(redis_db), api.Metrics())
    async with test_utils.TestClient(test_utils.TestServer(app)) as test_client:
        yield test_client, members_file


async def test_reads_cache_and_metrics(client: tuple[test_utils.TestClient, Path]) -> None:
    http, _ = client
    first = await (await http.get("/items/7")).json()
    second = await http.get("/items/7")
    assert first == {"id": 7, "name": "item-7", "digest": first["digest"], "from": "primary"}
    assert second.status == 200
    assert (await http.get("/items/100000")).status == 404
    bad = await http.get("/items/seven")
    assert bad.status == 400 and "'seven'" in await bad.text()
    metrics = await (await http.get("/metrics")).text()
    assert 'sample_cache_lookups_total{result="hit"} 1.0' in metrics
    assert 'sample_db_reads_total{member="primary"} 2.0' in metrics


async def test_jobs_land_on_the_celery_queue(
    client: tuple[test_utils.TestClient, Path], redis_db: str
) -> None:
    http, _ = client
    response = await http.post("/jobs?count=25&work=0.1")
    assert response.status == 202
    async with aioredis.from_url(redis_db) as r:
        assert await r.llen(jobs.QUEUE) == 25
    rejected = await http.post("/jobs?count=0")
    assert rejected.status == 400 and "was 0" in await rejected.text()


async def test_replica_joins_serves_reads_and_drains_without_failed_reads(
    client: tuple[test_utils.TestClient, Path], make_replica: Callable[[], postgres.PostgresServer]
) -> None:
    http, members_file = client
    replica = make_replica()
    readpool.write_members(members_file, [readpool.Member("replica-a", replica.dsn)])
    for _ in range(50):
        if (await (await http.get("/readpool")).json())["members"] == ["replica-a"]:
            break
        await asyncio.sleep(0.1)
    before = replica_reads(replica)
    answers = [await (await http.get(f"/items/{i}")).json() for i in range(1, 41)]
    assert {a["from"] for a in answers} == {"replica-a"}
    # A backend flushes its statistics at most once a second, an idle one within 10 s: poll for them.
    for _ in range(150):
        if replica_reads(replica) >= before + 40:
            break
        await asyncio.sleep(0.1)
    assert replica_reads(replica) >= before + 40

    # Delist the replica while reads keep coming: every read still succeeds, and reads move back.
    done = asyncio.Event()

    async def reader(n: int) -> list[int]:
        statuses = []
        for i in range(400):  # bounded; normally ended by `done` well before
            if done.is_set():
                break
            statuses.append((await http.get(f"/items/{100 + (n * 100 + i) % 300}")).status)
        return statuses

    readers = [asyncio.create_task(reader(n)) for n in range(4)]
    await asyncio.sleep(0.2)
    readpool.write_members(members_file, [])
    for _ in range(50):
        if (await (await http.get("/readpool")).json())["members"] == []:
            break
        await asyncio.sleep(0.1)
    await asyncio.sleep(0.3)  # reads go on after the app has let the replica go
    done.set()
    statuses = [s for task in readers for s in await task]
    assert len(statuses) > 20 and set(statuses) == {200}
    after = await (await http.get("/items/450")).json()  # never read before: not in the cache
    assert after["from"] == "primary"
    assert json.loads(members_file.read_text()) == {"members": []}
