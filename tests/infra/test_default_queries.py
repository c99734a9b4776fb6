"""Every default policy query of the stacks, evaluated by a real Prometheus scraping the real exporters.

The exporters are the Debian builds of the ones the stacks deploy (prometheus-postgres-exporter,
prometheus-redis-exporter), started with the environment the planned Deployments and chart values
give them, against a real PostgreSQL streaming replica and a real Redis holding a real Celery queue.
The PodMonitor's `podTargetLabels` become file-SD target labels, as the Prometheus Operator makes them.

What differs from a cluster, on purpose: the addresses (127.0.0.1 instead of RDS and ElastiCache),
`sslmode=disable` and a plain `redis://` (the local servers have no TLS), and no passwords (trust).
CloudNativePG's exporter lives inside its instance manager and cannot run here: k8s-dev's query is
evaluated over series of its names and labels served by prometheus_client (the last test).
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import celery
import psycopg
import pytest
import requests
from prometheus_client import CollectorRegistry, Gauge, start_http_server

from scaleplane.infra import exporter_catalogs, planning
from scaleplane.local.servers import postgres
from scaleplane.local.servers import prometheus as local_prometheus
from scaleplane.local.servers import redis as local_redis
from tests.support import endpoints, planned_stacks

pytestmark = [pytest.mark.servers, pytest.mark.slow]
POSTGRES_EXPORTER = "/usr/bin/prometheus-postgres-exporter"
REDIS_EXPORTER = "/usr/bin/prometheus-redis-exporter"


def _container_env(plan: planning.Plan, resource: str) -> dict[str, str]:
    container = plan.named(resource).inputs["spec"]["template"]["spec"]["containers"][0]
    return {item["name"]: item["value"] for item in container["env"] if "value" in item}


def _policy_queries(plan: planning.Plan) -> dict[str, str]:
    return {
        p.inputs["metadata"]["name"]: p.inputs["spec"]["metrics"][0]["query"]
        for p in plan.by_type("kubernetes:scaleplane.io/v1alpha1:ScalingPolicy")
    }


def _exporter(argv: list[str], env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        argv, env={**os.environ, **env}, stdout=log.open("wb"), stderr=subprocess.STDOUT
    )
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            requests.get(f"http://127.0.0.1:{port}/metrics", timeout=1)
            return process
        except requests.ConnectionError:
            time.sleep(0.1)
    process.kill()
    raise AssertionError(f"{argv[0]} did not answer on {port}: {log.read_text()[-1500:]}")


@pytest.fixture(scope="module")
def own_prometheus(servers_dir: Path) -> Iterator[local_prometheus.PrometheusServer]:
    # Not the session's: the default queries have no job selector, so no other test's series may be there.
    server = local_prometheus.PrometheusServer(servers_dir / "prometheus-default-queries")
    try:
        yield server.start()
    finally:
        server.stop()


@pytest.fixture
def scraped(
    own_prometheus: local_prometheus.PrometheusServer,
    postgres_primary: postgres.PostgresServer,
    make_replica: Callable[[], postgres.PostgresServer],
    redis_server: local_redis.RedisServer,
    servers_dir: Path,
) -> Iterator[Scraped]:
    plan = planned_stacks.planned("aws-prod")
    pg_env = _container_env(plan, "scaleplane-prod-exporters-postgres-exporter-replica-1")
    # "<replica address>:5432/<database>?sslmode=require"
    database, options = pg_env["DATA_SOURCE_URI"].split("/", 1)[1].split("?", 1)
    assert options == "sslmode=require"
    with postgres_primary.connect() as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone():
            conn.execute(f'CREATE DATABASE "{database}"')
    replica = make_replica()
    pg_port, redis_port = endpoints.free_port(), endpoints.free_port()
    pg_env["DATA_SOURCE_URI"] = f"127.0.0.1:{replica.port}/{database}?sslmode=disable"
    redis_env = _container_env(plan, "scaleplane-prod-exporters-redis-exporter")
    assert redis_env["REDIS_ADDR"].startswith("rediss://")  # aws-prod: transit encryption on
    redis_env["REDIS_ADDR"] = f"redis://127.0.0.1:{redis_server.port}"
    processes = [
        _exporter(
            [POSTGRES_EXPORTER, f"--web.listen-address=127.0.0.1:{pg_port}"],
            {**pg_env, "DATA_SOURCE_USER": "postgres", "DATA_SOURCE_PASS": ""},
            pg_port,
            servers_dir / "postgres-exporter.log",
        )
    ]
    try:
        processes.append(
            _exporter(
                [REDIS_EXPORTER, f"-web.listen-address=127.0.0.1:{redis_port}"],
                redis_env,
                redis_port,
                servers_dir / "redis-exporter.log",
            )
        )
        monitor = plan.named("scaleplane-prod-exporters-podmonitor-postgres-exporter").inputs["spec"]
        template = plan.named("scaleplane-prod-exporters-postgres-exporter-replica-1").inputs["spec"]
        pod_labels = template["template"]["metadata"]["labels"]
        target_labels = {key: pod_labels[key] for key in monitor["podTargetLabels"]}
        groups = [
            {"targets": [f"127.0.0.1:{pg_port}"], "labels": {"job": "postgres-exporter", **target_labels}},
            {"targets": [f"127.0.0.1:{redis_port}"], "labels": {"job": "redis-exporter"}},
        ]
        own_prometheus.targets_dir.mkdir(parents=True, exist_ok=True)
        (own_prometheus.targets_dir / "exporters.json").write_text(json.dumps(groups))
        yield Scraped(plan, own_prometheus, replica, redis_server, database, pg_port, redis_port)
    finally:
        (own_prometheus.targets_dir / "exporters.json").unlink(missing_ok=True)
        for process in processes:
            process.terminate()
            process.wait(timeout=10)


@dataclass
class Scraped:
    plan: planning.Plan
    prometheus: local_prometheus.PrometheusServer
    replica: postgres.PostgresServer
    redis: local_redis.RedisServer
    database: str
    postgres_port: int
    redis_port: int


def _read_load(dsn: str, stop: threading.Event) -> None:
    """Read-only transactions on the replica, about 100 a second, until told to stop (bounded: 60 s)."""
    deadline = time.monotonic() + 60
    with psycopg.connect(dsn, autocommit=True) as conn:
        while not stop.is_set() and time.monotonic() < deadline:
            conn.execute("SELECT count(*) FROM pg_class").fetchone()
            time.sleep(0.01)


def test_every_default_query_of_aws_prod_answers_from_the_real_exporters(scraped: Scraped) -> None:
    queries = _policy_queries(scraped.plan)
    assert set(queries) == {"workers", "read-replicas"}
    broker = f"redis://127.0.0.1:{scraped.redis.port}/0"
    with scraped.redis.client() as client:
        client.delete("celery")
    # Nothing waiting: the exporter reports 0 for the absent list (Redis deletes an empty one), not
    # no data, so the policy can scale down instead of holding on a missing metric.
    assert scraped.prometheus.wait_for(queries["workers"], lambda v: v == 0, timeout=30) == 0
    app = celery.Celery("default-queries", broker=broker)
    for _ in range(7):  # the default queue of a Celery app is the Redis list `celery`
        app.send_task("tasks.never_run")
    assert scraped.prometheus.wait_for(queries["workers"], lambda v: v == 7, timeout=30) == 7

    stop = threading.Event()
    load = threading.Thread(target=_read_load, args=(scraped.replica.dsn_for(scraped.database), stop))
    load.start()
    try:
        rate = scraped.prometheus.wait_for(queries["read-replicas"], lambda v: v > 5, timeout=40)
    finally:
        stop.set()
        load.join()
    assert rate < 1000, rate  # about 100/s of our reads, plus the exporter's own
    series = scraped.prometheus.query_vector(f'pg_stat_database_xact_commit{{datname="{scraped.database}"}}')
    assert [labels["role"] for labels, _ in series] == ["replica"]
    assert [labels["db_instance"] for labels, _ in series] == ["replica-1"]
    with scraped.redis.client() as client:
        client.delete("celery")


def test_every_catalog_series_is_published_by_the_real_exporters(scraped: Scraped) -> None:
    for catalog, port in (
        (exporter_catalogs.POSTGRES_EXPORTER, scraped.postgres_port),
        (exporter_catalogs.REDIS_EXPORTER, scraped.redis_port),
    ):
        text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
        published = {line.split("{")[0].split(" ")[0] for line in text.splitlines() if line[:1] != "#"}
        assert set(catalog.series) - published == set(), catalog.name


def test_the_kubernetes_read_replica_query_sums_the_replicas_only(
    own_prometheus: local_prometheus.PrometheusServer,
) -> None:
    """k8s-dev's query over CloudNativePG-shaped series: one endpoint per instance, `role` as our
    PodMonitor sets it from cnpg.io/instanceRole. CloudNativePG's own exporter cannot run here, so the
    series come from prometheus_client with the names and labels of its default-monitoring.yaml."""
    dev = planned_stacks.planned("k8s-dev")
    # The Cluster counts its primary: the policy adds one target's worth to the replicas' sum.
    query, primary_share = _policy_queries(dev)["read-replicas"].removeprefix("(").split(") + ")
    assert (
        float(primary_share)
        == dev.named("scaleplane-dev-operator-read-replicas").inputs["spec"]["metrics"][0]["target"]["value"]
    )
    (monitor,) = [  # the operator has a PodMonitor of its own (the dashboards' issue)
        m
        for m in dev.by_type("kubernetes:monitoring.coreos.com/v1:PodMonitor")
        if "exporters" in m.name and "queue-exporter" not in m.name
    ]
    (relabel, _) = monitor.inputs["spec"]["podMetricsEndpoints"][0]["relabelings"]
    assert relabel["targetLabel"] == "role"
    instances = {"app-1": ("primary", 1000.0), "app-2": ("replica", 100.0), "app-3": ("replica", 100.0)}
    servers, groups, gauges = [], [], []
    for name, (role, _) in instances.items():
        registry = CollectorRegistry()
        gauge = Gauge("cnpg_pg_stat_database_xact_commit", "commits", ["datname"], registry=registry)
        gauges.append((gauge, instances[name][1]))
        server, thread = start_http_server(0, addr="127.0.0.1", registry=registry)
        servers.append((server, thread))
        groups.append(
            {
                "targets": [f"127.0.0.1:{server.server_port}"],
                "labels": {"job": "cnpg", relabel["targetLabel"]: role, "pod": name},
            }
        )
    (own_prometheus.targets_dir / "cnpg.json").write_text(json.dumps(groups))
    stop = threading.Event()

    def commit() -> None:  # counters advancing at 1000/s on the primary, 100/s on each replica (bounded)
        deadline = time.monotonic() + 60
        while not stop.is_set() and time.monotonic() < deadline:
            for gauge, per_second in gauges:
                gauge.labels("app").inc(per_second / 10)
                gauge.labels("postgres").inc(per_second / 10)  # another database: not counted
            time.sleep(0.1)

    writer = threading.Thread(target=commit)
    writer.start()
    try:
        # every instance's two databases scraped at least twice (so each has a rate), then compare
        all_rates = "count(rate(cnpg_pg_stat_database_xact_commit[2m]))"
        assert own_prometheus.wait_for(all_rates, lambda v: v == 6, timeout=40) == 6
        selected = own_prometheus.query_vector(query.removeprefix("sum(rate(").split("[")[0])
        # rate() over a window only seconds old is extrapolated, so compare selections, not 200/s:
        replicas_only = 'sum(rate(cnpg_pg_stat_database_xact_commit{pod=~"app-2|app-3",datname="app"}[2m]))'
        difference = own_prometheus.query(f"{query} - {replicas_only}")
        value = own_prometheus.query(query)
    finally:
        stop.set()
        writer.join()
        (own_prometheus.targets_dir / "cnpg.json").unlink(missing_ok=True)
        for server, thread in servers:
            server.shutdown()
            thread.join(timeout=5)
    assert sorted((labels["pod"], labels["datname"]) for labels, _ in selected) == [
        ("app-2", "app"),
        ("app-3", "app"),
    ]  # the replicas' `app` database: not the primary, not `postgres`
    assert difference == 0
    assert value is not None and value > 0
