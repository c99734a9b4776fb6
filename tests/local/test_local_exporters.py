"""The platform exporter, scraped by the real Prometheus: queue depth, replica lag, read load, pool sizes."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import psycopg
import redis

from scaleplane.local import exporters
from scaleplane.local.pools import replicas
from scaleplane.local.servers import postgres, processes
from scaleplane.local.servers import prometheus as local_prometheus

DATABASE = "exporter_tests"


async def test_prometheus_sees_queue_depth_lag_reads_and_pool_sizes(
    prometheus: local_prometheus.PrometheusServer,
    redis_db: str,
    postgres_primary: postgres.PostgresServer,
    servers_dir: Path,
) -> None:
    with postgres_primary.connect() as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,)).fetchone():
            conn.execute(f"CREATE DATABASE {DATABASE}")
    state_dir = servers_dir / f"exporter-{uuid.uuid4().hex[:8]}"
    pool = replicas.ReadReplicaPool(
        "readers", state_dir, primary=postgres_primary, read_pool_file=state_dir / "readpool.json",
        database=DATABASE, grace=0.1,
    )  # fmt: skip
    await pool.open(1)
    sources = exporters.Sources(
        redis_url=redis_db,
        queues=["jobs"],
        primary_dsn=postgres_primary.dsn_for(DATABASE),
        read_pool_file=pool.read_pool_file,
        state_dir=state_dir,
    )
    exporter = exporters.ExporterProcess(sources, state_dir)
    try:
        await pool.wait_ready(1, timeout=60)
        [replica] = pool.replicas()
        exporter.start()
        job = f"exporter-{uuid.uuid4().hex[:6]}"
        prometheus.add_target(job, exporter.address)
        with redis.Redis.from_url(redis_db) as client:
            client.rpush("jobs", *[f"job-{n}" for n in range(7)])

        def series(name: str, **labels: str) -> str:
            matchers = ",".join(f'{k}="{v}"' for k, v in {"job": job, **labels}.items())
            return f"{name}{{{matchers}}}"

        assert (
            prometheus.wait_for(series("scaleplane_local_queue_depth", queue="jobs"), lambda v: v == 7) == 7
        )
        assert prometheus.wait_for(series("scaleplane_local_replica_streaming", server=replica.name)) == 1
        assert prometheus.query(series("scaleplane_local_replica_lag_bytes", server=replica.name)) is not None
        ready = series("scaleplane_local_pool_replicas", pool="readers", state="ready")
        assert prometheus.wait_for(ready, lambda v: v == 1) == 1

        with psycopg.connect(pool.dsn(replica), autocommit=True) as conn:
            for _ in range(40):
                conn.execute("SELECT 1")
        reads = series("scaleplane_local_postgres_transactions_total", server=replica.name, role="replica")
        spread = f"max_over_time({reads}[1m]) - min_over_time({reads}[1m])"
        assert prometheus.wait_for(spread, lambda v: v >= 40, timeout=30) >= 40
        assert prometheus.query(series("scaleplane_local_source_up", source=f"postgres:{replica.name}")) == 1
        assert prometheus.query(series("scaleplane_local_source_up", source="postgres:replication")) == 1
        prometheus.remove_target(job, exporter.address)
    finally:
        exporter.stop()
        await pool.close()
    assert exporter.process is not None and exporter.process.pid is not None
    assert processes.start_ticks(exporter.process.pid) is None


def test_the_oldest_jobs_age_comes_from_the_send_stamp_and_is_0_without_one() -> None:
    from scaleplane.local.app import jobmarks

    stamped = json.dumps({"body": "e30=", "headers": {jobmarks.ENQUEUED_AT: 1000.0, "task": "x"}}).encode()
    assert exporters._age(stamped, now=1012.5) == 12.5
    assert exporters._age(stamped, now=990.0) == 0.0, "a clock step back is no negative age"
    assert exporters._age(None, now=1000.0) == 0.0  # an empty queue
    assert exporters._age(b"job-1", now=1000.0) == 0.0  # not a kombu message
    assert exporters._age(json.dumps({"headers": {}}).encode(), now=1000.0) == 0.0  # sent by another app
