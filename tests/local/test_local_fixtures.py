"""The shared fixtures themselves: each server answers, and Prometheus scrapes a target added at run time."""

from __future__ import annotations

from collections.abc import Callable

from scaleplane.local.servers import postgres
from scaleplane.local.servers import prometheus as local_prometheus
from scaleplane.local.servers import redis as local_redis


def test_prometheus_scrapes_a_target_added_at_run_time(prometheus: local_prometheus.PrometheusServer) -> None:
    prometheus.add_target("fixture-self", f"127.0.0.1:{prometheus.port}")
    assert prometheus.wait_for('up{job="fixture-self"}', lambda v: v == 1, timeout=30) == 1
    assert prometheus.query('up{job="no-such-job"}') is None


def test_redis_answers(redis_server: local_redis.RedisServer, redis_db: str) -> None:
    with redis_server.client() as client:
        assert client.ping()
    assert redis_db.startswith(f"redis://127.0.0.1:{redis_server.port}/")


def test_replica_streams_from_the_primary(
    postgres_primary: postgres.PostgresServer, make_replica: Callable[[], postgres.PostgresServer]
) -> None:
    assert postgres_primary.fetch_one("CREATE TABLE IF NOT EXISTS fixture_rows (n int)") is None
    assert postgres_primary.fetch_one("INSERT INTO fixture_rows VALUES (42) RETURNING n") == 42
    replica = make_replica()
    assert replica.port != postgres_primary.port
    assert replica.fetch_one("SELECT status FROM pg_stat_wal_receiver") == "streaming"
    assert replica.fetch_one("SELECT pg_is_in_recovery()") is True
    assert replica.fetch_one("SELECT count(*) FROM fixture_rows WHERE n = 42") >= 1
