"""Shared fixtures: real servers on 127.0.0.1 (free ports), started once per session, always cleaned up.

Any test that uses one of them is marked `servers` automatically. `./run test` runs the suite on two
pytest-xdist workers: each worker is a session of its own, with its own servers, and
`tests.support.endpoints.free_port` hands each worker a disjoint share of the ports.

`prometheus` (session): a `scaleplane.local.servers.prometheus.PrometheusServer`,
scrape and evaluation every 1 s.
    prometheus.url                          "http://127.0.0.1:PORT"
    prometheus.add_target(job, "127.0.0.1:PORT")   file SD, atomic; `remove_target`, `set_targets` too
    prometheus.query(promql) -> float | None       None = no data yet; several series = an error
    prometheus.query_vector(promql) -> [(labels, value)]
    prometheus.wait_for(promql, predicate=lambda v: v > 0, timeout=30) -> float
    The first scrape of a new target lands 1-5 s after `add_target`: always `wait_for`, never sleep.
    Jobs are shared by the whole session: use a job name unique to your test.

`redis_server` (session): a `scaleplane.local.servers.redis.RedisServer` (no persistence).
    redis_server.url ("redis://127.0.0.1:PORT/0"), .port, .client() -> redis.Redis
    Shared: use your own key prefix, or `redis_db` for an empty database of your own.

`redis_db` (function): a URL of a fresh logical database (1..15) of that Redis, flushed before the test.

`postgres_primary` (session): a `scaleplane.local.servers.postgres.PostgresServer` set up for streaming
    replication (wal_level replica, max_wal_senders, hot_standby, pg_hba replication trust on 127.0.0.1).
    postgres_primary.dsn ("postgresql://postgres@127.0.0.1:PORT/postgres"), .port, .dsn_for(database),
    .connect(database="postgres") -> psycopg.Connection (autocommit), .fetch_one(sql, params)
    Shared: create your own database or tables with unique names.

`make_replica` (function): `make_replica() -> PostgresServer`, a started `pg_basebackup -R` replica of
    `postgres_primary` on a new port (streaming); stopped and deleted at the end of the test.

`servers_dir` (session): a directory every user (including postgres) can traverse, removed at the end.

`moto_server` (session): the URL of one real moto_server (the AWS API emulator) for every test that talks
    to AWS APIs (targets, cost, drills, the RDS and Aurora e2e): it takes seconds to start, so once.
`moto_url` (function): that server's URL, its state reset (`POST /moto-api/reset`) before the test.
    Tests that need AWS credentials in the environment set them (tests/drills/conftest.py does).

Every test must leave the `SCALEPLANE_*` and `POD_*` environment as it found it: an operator reads its
settings from there, so a leaked value (once, a drill's `SCALEPLANE_IDENTITY`) breaks a later test that
has nothing to do with it. `_no_leaked_settings` fails the test that leaked instead.
"""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

from scaleplane.local.servers import postgres
from scaleplane.local.servers import prometheus as local_prometheus
from scaleplane.local.servers import redis as local_redis
from tests.support import moto, worker_signals

SERVER_FIXTURES = {
    "prometheus", "redis_server", "redis_db", "postgres_primary", "make_replica", "moto_server", "moto_url",
}  # fmt: skip


def pytest_configure(config: pytest.Config) -> None:
    # A SIGTERM (CI cancelling, `timeout`) must still run the fixtures' finalizers that stop servers,
    # in every worker of a run on several (tests/support/worker_signals).
    worker_signals.configure(config)


@pytest.hookimpl(trylast=True)  # after the runner's own, which runs the session fixtures' finalizers
def pytest_sessionfinish(session: pytest.Session) -> None:
    worker_signals.finished(session.config)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if SERVER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.servers)


@pytest.fixture(autouse=True)
def _no_leaked_settings() -> Iterator[None]:
    before = _operator_settings()
    yield
    after = _operator_settings()
    assert after == before, f"the test left operator settings in the environment: {after} (was {before})"


def _operator_settings() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k.startswith(("SCALEPLANE_", "POD_"))}


@pytest.fixture(scope="session")
def servers_dir() -> Iterator[Path]:
    # Not tmp_path_factory: pytest's base dir is mode 0700, which the postgres user cannot traverse.
    root = Path(tempfile.mkdtemp(prefix="scaleplane-tests-"))
    root.chmod(0o755)
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def prometheus(servers_dir: Path) -> Iterator[local_prometheus.PrometheusServer]:
    server = local_prometheus.PrometheusServer(servers_dir / "prometheus")
    try:
        yield server.start()
    finally:
        server.stop()


@pytest.fixture(scope="session")
def redis_server(servers_dir: Path) -> Iterator[local_redis.RedisServer]:
    server = local_redis.RedisServer(servers_dir / "redis")
    try:
        yield server.start()
    finally:
        server.stop()


_databases = itertools.cycle(range(1, 16))


@pytest.fixture
def redis_db(redis_server: local_redis.RedisServer) -> str:
    url = f"redis://127.0.0.1:{redis_server.port}/{next(_databases)}"
    import redis as redis_client

    with redis_client.Redis.from_url(url) as client:
        client.flushdb()
    return url


@pytest.fixture(scope="session")
def postgres_primary(servers_dir: Path) -> Iterator[postgres.PostgresServer]:
    server = postgres.PostgresServer(servers_dir / "pg-primary", name="pg-primary")
    try:
        yield server.start()
    finally:
        server.stop()


_replica_numbers = itertools.count(1)


@pytest.fixture
def make_replica(
    postgres_primary: postgres.PostgresServer, servers_dir: Path
) -> Iterator[Callable[[], postgres.PostgresServer]]:
    made: list[postgres.PostgresServer] = []

    def make() -> postgres.PostgresServer:
        data_dir = servers_dir / f"pg-replica-{next(_replica_numbers)}"
        replica = postgres_primary.create_replica(data_dir, start=False)
        made.append(replica)
        return replica.start()

    try:
        yield make
    finally:
        for replica in made:
            replica.destroy()


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    with moto.running_server(start_timeout=30) as url:
        yield url


@pytest.fixture
def moto_url(moto_server: str) -> str:
    requests.post(f"{moto_server}/moto-api/reset", timeout=5).raise_for_status()
    return moto_server
