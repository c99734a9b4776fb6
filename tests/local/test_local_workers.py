"""The worker pool on a real Redis broker: it grows, drains the queue, shrinks with warm shutdown."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
import redis
from celery import Celery

from scaleplane.local.pools import workers
from scaleplane.targets import protocol
from tests.support import waiting

TASK = "scaleplane.sample.process"  # the sample app's job (scaleplane.local.app.jobs)


def enqueue(broker_url: str, count: int, seconds: float) -> None:
    producer = Celery("test-producer", broker=broker_url)
    for n in range(count):
        producer.send_task(TASK, args=[n, seconds], queue=workers.DEFAULT_QUEUE)
    producer.close()


def queue_depth(broker_url: str) -> int:
    with redis.Redis.from_url(broker_url) as client:
        return int(client.llen(workers.DEFAULT_QUEUE))


def gone(pid: int | None) -> bool:
    assert pid is not None
    return not os.path.exists(f"/proc/{pid}") or " Z " in open(f"/proc/{pid}/stat").read()


async def test_pool_grows_drains_the_queue_and_shrinks(redis_db: str, tmp_path: Path) -> None:
    pool = workers.WorkerPool("workers", tmp_path, broker_url=redis_db, drain_timeout=30)
    await pool.open(1)
    try:
        await pool.wait_ready(1, timeout=60)
        await pool.scale(3)
        assert (await pool.read()).current == 3
        await pool.wait_ready(3, timeout=60)
        enqueue(redis_db, 24, 0.25)
        await waiting.eventually(lambda: sum(pool.jobs_done().values()) == 24, 60, "24 jobs done")
        assert queue_depth(redis_db) == 0
        busy = [name for name, done in pool.jobs_done().items() if done > 0]
        assert len(busy) >= 2, f"jobs were not spread over the new workers: {pool.jobs_done()}"

        pids = {m.name: m.handle.pid for m in pool.members.values()}
        await pool.scale(1)
        assert (await pool.read()).ready == 1  # leaving workers stop counting at once
        await pool.wait_ready(1, timeout=30)
        survivors = set(pool.members)
        assert survivors == {"workers-1"}, "scale down must keep the oldest worker"
        assert all(gone(pid) for name, pid in pids.items() if name not in survivors)
    finally:
        await pool.close()
    assert all(gone(pid) for pid in pids.values())
    assert not list((tmp_path / "workers").glob("*.pid"))


async def test_scale_down_finishes_the_running_job(redis_db: str, tmp_path: Path) -> None:
    pool = workers.WorkerPool("slow", tmp_path, broker_url=redis_db, drain_timeout=30)
    await pool.open(1)
    try:
        await pool.wait_ready(1, timeout=60)
        enqueue(redis_db, 3, 1.5)
        await waiting.eventually(
            lambda: queue_depth(redis_db) == 2, 10, "the worker took the first job", every=0.1
        )
        started = time.monotonic()
        await pool.scale(0)
        await pool.wait_ready(0, timeout=30)
        assert time.monotonic() - started > 0.5, "the worker stopped without finishing its job"
        assert pool.jobs_done() == {"slow-1": 1}, "warm shutdown finishes the running job, takes no other"
        assert queue_depth(redis_db) == 2, "jobs not started stay queued for the next worker"
    finally:
        await pool.close()


async def test_bad_requests_are_refused_with_the_value(tmp_path: Path) -> None:
    pool = workers.WorkerPool("refuse", tmp_path, broker_url="redis://127.0.0.1:1/0", max_replicas=4)
    with pytest.raises(protocol.TargetError, match="got -1"):
        await pool.scale(-1)
    with pytest.raises(protocol.TargetError, match="replicas 5 is above this pool's limit 4"):
        await pool.scale(5)
    await pool.close()


async def test_a_new_pool_ends_the_workers_a_crashed_run_left(redis_db: str, tmp_path: Path) -> None:
    crashed = workers.WorkerPool("workers", tmp_path, broker_url=redis_db)
    await crashed.open(1)
    await crashed.wait_ready(1, timeout=60)
    [leftover] = [m.handle.pid for m in crashed.members.values()]
    # The controller dies without closing its pool; the next run opens a pool on the same state dir.
    restarted = workers.WorkerPool("workers", tmp_path, broker_url=redis_db)
    await restarted.open(0)
    try:
        assert gone(leftover), "open() must end the worker a crashed run left behind"
        assert not list((tmp_path / "workers").glob("*.pid"))
    finally:
        await restarted.close()
        await crashed.close()
