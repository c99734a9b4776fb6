"""The deployed loop, end to end: what `pulumi up` of k8s-dev applies, applied to kmock; a real Prometheus
scraping real exporters as the stack's PodMonitors tell it to; the real operator run as the stack's
Deployment runs it; the stack's default policies scaling the objects the stack created.

Nothing stands in for the stack: the manifests are `scaleplane plan --manifests`'s rendering of the
planned stack (operator/ as shipped: CRDs, RBAC, Deployment; the default ScalingPolicies; our
PodMonitors; the worker Deployment and the CloudNativePG Cluster). What the Helm charts would add and
cannot be rendered here is made by this test, and said so:
- CloudNativePG's instance pods (the labels its operator puts on them), whose metrics port is a real
  postgres_exporter publishing CloudNativePG's series (local/servers/cnpg-queries.yaml) from a real
  primary and a real streaming replica; the operator's pod from its Deployment's template;
- the Redis chart's exporter sidecar: the real redis_exporter with the environment of the chart values
  the stack sets, scraped by a plain job (the chart's ServiceMonitor is the chart's, not ours).
The operator ticks every second instead of the Deployment's 15 s (test time), and reaches Prometheus
and kmock on 127.0.0.1; everything else is the Deployment's: cluster-wide, Lease in its namespace.
Every request it made is checked against the stack's RBAC objects.
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import celery
import pytest

from scaleplane.infra import manifests, planning
from scaleplane.local.servers import postgres, stockexporters
from scaleplane.local.servers import prometheus as local_prometheus
from scaleplane.local.servers import redis as local_redis
from scaleplane.local.servers.binaries import Binary
from tests.support import endpoints, operating, pod_monitors, rbac_checks, stack_objects
from tests.support.waiting import eventually

pytestmark = [pytest.mark.servers, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]
STACK = "k8s-dev"
LOAD_TABLE = "deployed_loop_items"


@pytest.fixture(scope="module")
def rendering() -> manifests.Rendering:
    return manifests.render(planning.plan(ROOT, STACK).resources)


class Exporters:
    """The real exporters the stack's monitors point at, on 127.0.0.1, stopped on exit."""

    def __init__(self) -> None:
        self.started: list[stockexporters.StockExporter] = []

    def start(self, exporter: stockexporters.StockExporter) -> stockexporters.StockExporter:
        self.started.append(exporter.start())
        return exporter

    def stop(self) -> None:
        for exporter in self.started:
            exporter.stop()


class DeploymentExporter(stockexporters.StockExporter):
    """An exporter binary run with a container's environment (values only; `overrides` on top)."""

    def __init__(self, name: str, binary: Any, run_dir: Path, env: dict[str, str]) -> None:
        super().__init__(name, binary, run_dir)
        self.extra_env = env

    def argv(self, path: Path, port: int) -> list[str]:
        return [str(path), f"--web.listen-address=127.0.0.1:{port}"]

    def env(self) -> dict[str, str]:
        return {**super().env(), **self.extra_env}


class QueueDeploymentExporter(stockexporters.StockExporter):
    """The stack's queue exporter (`python -m scaleplane.queues`, the operator image's own) with its
    container's arguments, its broker URL pointed at 127.0.0.1 (no TLS, no password here)."""

    def __init__(self, name: str, run_dir: Path, container: dict[str, Any], broker: str) -> None:
        super().__init__(name, PYTHON, run_dir)
        self.container, self.broker = container, broker

    def argv(self, path: Path, port: int) -> list[str]:
        command = list(self.container["command"])
        assert command[:3] == ["python", "-m", "scaleplane.queues"], command
        args = list(self.container.get("args") or [])
        args[args.index("--port") + 1] = str(port)
        return [
            str(path),
            "-m",
            "scaleplane.queues",
            "--redis-url",
            self.broker,
            *args,
            "--address",
            "127.0.0.1",
        ]


PYTHON = Binary("python", Path(sys.executable), "python3")


def app_database(postgres_primary: postgres.PostgresServer) -> str:
    """CloudNativePG's bootstrap database and RDS's db_name: `app`, with a table to read."""
    with postgres_primary.connect() as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = 'app'").fetchone():
            conn.execute('CREATE DATABASE "app"')
    with postgres_primary.connect("app") as conn:
        conn.execute(f"CREATE TABLE IF NOT EXISTS {LOAD_TABLE} (id int PRIMARY KEY)")
        conn.execute(f"INSERT INTO {LOAD_TABLE} VALUES (1) ON CONFLICT DO NOTHING")
    return "app"


@contextlib.contextmanager
def read_load(
    replica: postgres.PostgresServer, database: str, per_second: int, run_dir: Path
) -> Iterator[None]:
    """pgbench running read-only transactions on the replica at `per_second` (bounded: 60 s). A process,
    not a thread: under the GIL, beside kopf's and kmock's threads, a Python loop manages a few dozen.
    Each reads a table: PostgreSQL 15 flushes a busy backend's transaction counts only along with
    table statistics, so `SELECT 1` alone would show in pg_stat_database only when pgbench exits."""
    script = run_dir / "read.sql"
    script.write_text(f"SELECT id FROM {LOAD_TABLE} WHERE id = 1;\n")
    argv = [str(replica._bin() / "pgbench"), "-n", "-M", "prepared", "-f", str(script)]
    argv += ["-R", str(per_second), "-T", "60"]
    argv += ["-c", "2", "-j", "1", "-h", "127.0.0.1", "-p", str(replica.port), "-U", "postgres", database]
    with (run_dir / "pgbench.log").open("wb") as log:
        process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
        try:
            yield
        finally:
            process.terminate()
            process.wait(timeout=10)


@pytest.fixture
def loop_servers(
    rendering: manifests.Rendering,
    servers_dir: Path,
    postgres_primary: postgres.PostgresServer,
    make_replica: Callable[[], postgres.PostgresServer],
    redis_server: local_redis.RedisServer,
) -> Iterator[dict[str, Any]]:
    (cnpg_cluster,) = rendering.of_kind("Cluster")
    database = app_database(postgres_primary)
    replica = make_replica()
    run_dir = servers_dir / "deployed-loop"
    exporters = Exporters()
    (redis_release,) = [r for r in rendering.releases if r.chart == "redis"]
    chart_env = {e["name"]: e["value"] for e in redis_release.values["metrics"]["extraEnvVars"]}
    queue_key = chart_env["REDIS_EXPORTER_CHECK_SINGLE_KEYS"].split("=", 1)[1]  # db0=celery
    with redis_server.client() as client:
        client.delete(queue_key)  # the session's Redis: no other test's tasks in the queue
    discovery = run_dir / "pods.json"
    jobs = [j for m in rendering.of_kind("PodMonitor") for j in pod_monitors.scrape_jobs(m, discovery)]
    prometheus = local_prometheus.PrometheusServer(run_dir / "prometheus", scrape_configs=tuple(jobs))
    try:
        servers = [postgres_primary, replica]
        instances = [
            exporters.start(stockexporters.PostgresExporter(f"pg-exporter-{i}", s.dsn_for(database), run_dir))
            for i, s in enumerate(servers, start=1)
        ]
        redis_env = {**chart_env, "REDIS_ADDR": f"redis://127.0.0.1:{redis_server.port}"}
        queue = exporters.start(
            DeploymentExporter("redis-exporter", stockexporters.REDIS_EXPORTER, run_dir, redis_env)
        )
        # Not the session's Prometheus: the default queries select no job, so no other test's series
        # may be in it.
        prometheus.start()
        prometheus.set_targets("redis-chart-metrics", [queue.address])
        pods = stack_objects.instance_pods(
            cnpg_cluster, [(s.port, e.port) for s, e in zip(servers, instances, strict=True)]
        )
        yield {
            "prometheus": prometheus,
            "replica": replica,
            "database": database,
            "discovery": discovery,
            "pods": pods,
            "run_dir": run_dir,
        }
    finally:
        prometheus.stop()
        exporters.stop()
        with redis_server.client() as client:
            client.delete(queue_key)


async def test_the_planned_stack_scales_what_it_created(
    rendering: manifests.Rendering, loop_servers: dict[str, Any], redis_server: local_redis.RedisServer
) -> None:
    prometheus: local_prometheus.PrometheusServer = loop_servers["prometheus"]
    # Read load on the replica from the start: rate() over the policy's 2 m window counts only what
    # Prometheus has seen, so a young series needs a head start (6000/s reads as ~50/s more each second).
    with read_load(loop_servers["replica"], loop_servers["database"], 6000, loop_servers["run_dir"]):
        cluster = await _run_the_loop(rendering, loop_servers, redis_server, prometheus)
    wanted = rbac_checks.needs(cluster)
    refused = rbac_checks.refused(wanted, rbac_checks.grants(_rbac(rendering)))
    assert refused == set(), f"requests the stack's RBAC would refuse: {sorted(map(str, refused))}"
    assert any(n.resource == "clusters/scale" for n in wanted), "the check saw the operator's writes"


def _rbac(rendering: manifests.Rendering) -> list[dict[str, Any]]:
    kinds = ("ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding")
    return [obj for obj in rendering.objects if obj["kind"] in kinds]


async def _run_the_loop(
    rendering: manifests.Rendering,
    loop_servers: dict[str, Any],
    redis_server: local_redis.RedisServer,
    prometheus: local_prometheus.PrometheusServer,
) -> Any:
    policies = {p["metadata"]["name"]: p for p in rendering.of_kind("ScalingPolicy")}
    (deployment,) = [
        d for d in rendering.of_kind("Deployment") if d["metadata"]["name"] == "scaleplane-operator"
    ]
    cluster_wide, env = stack_objects.operator_settings(deployment, f"{deployment['metadata']['name']}-0")
    assert cluster_wide, "operator/deployment.yaml runs --all-namespaces with the cluster-wide RBAC"
    metrics_port = endpoints.free_port()
    env |= {
        "SCALEPLANE_PROMETHEUS_URL": prometheus.url,
        "SCALEPLANE_TICK_SECONDS": "1",
        "SCALEPLANE_METRICS_ADDR": f"127.0.0.1:{metrics_port}",
    }
    workers_policy, replicas_policy = policies["workers"], policies["read-replicas"]
    workers_at = ("apps/v1/deployments", workers_policy["metadata"]["namespace"])
    workers_name = workers_policy["spec"]["targetRef"]["name"]
    db_at = ("postgresql.cnpg.io/v1/clusters", replicas_policy["metadata"]["namespace"])
    db_name = replicas_policy["spec"]["targetRef"]["name"]

    async with operating.cluster_api() as (cluster, url):
        stack_objects.apply(cluster, rendering.objects)
        for body in [*loop_servers["pods"], stack_objects.pod_of(deployment, {"metrics": metrics_port})]:
            cluster.put_object("v1/pods", body)
        # What Prometheus discovers is what the cluster holds: the pods as stored in kmock.
        stored = [
            o.raw for (res, _, _), o in cluster.objects.items() if res.plural == "pods" and not o.deleted
        ]
        pod_monitors.write_discovery(loop_servers["discovery"], stored)
        workers = cluster.read_object(*workers_at, workers_name)
        db = cluster.read_object(*db_at, db_name)
        assert workers is not None and db is not None, "the policies' targets are objects of the stack"
        assert workers["spec"]["replicas"] == workers_policy["spec"]["minReplicas"] == 1
        # 1 primary + 1 replica, and the policy's floor keeps that replica (minReplicas counts the primary)
        assert db["spec"]["instances"] == replicas_policy["spec"]["minReplicas"] == 2

        app = celery.Celery("deployed-loop", broker=f"redis://127.0.0.1:{redis_server.port}/0")
        for _ in range(70):  # 70 waiting at 20 per worker (k8s-dev's targetValue): 4 workers
            app.send_task("tasks.never_run")
        query = workers_policy["spec"]["metrics"][0]["query"]
        await asyncio.to_thread(prometheus.wait_for, query, lambda v: v == 70, 30)

        async with operating.running_operator(
            url, prometheus.url, namespace=env["POD_NAMESPACE"], env=env, all_namespaces=cluster_wide
        ):
            await eventually(lambda: cluster.read_object(*workers_at, workers_name)["spec"]["replicas"] == 4)
            await eventually(
                lambda: cluster.read_object(*db_at, db_name)["spec"]["instances"] > 2, timeout=40
            )
            # the operator's own /metrics, scraped through the stack's PodMonitor under the alerts' job
            await asyncio.to_thread(
                prometheus.wait_for, 'scaleplane_leader{job="scaleplane-operator"}', lambda v: v == 1, 20
            )
            decision = await eventually(
                lambda: _scale_up_of(cluster.read_object(operating.POLICY, db_at[1], "read-replicas"))
            )
    _replicas_cover_their_load(decision, replicas_policy)
    return cluster


def _scale_up_of(policy: dict[str, Any]) -> dict[str, Any] | None:
    """The policy's last decision once its status reports the scale-up (status is written after it)."""
    decision = (policy.get("status") or {}).get("lastDecision") or {}
    return decision if decision.get("desired", 0) > decision.get("current", 0) else None


def _replicas_cover_their_load(decision: dict[str, Any], policy: dict[str, Any]) -> None:
    """The scale-up left as many replicas (instances - the primary) as the replicas' read load needs."""
    (metric,) = decision["metrics"]
    target = policy["spec"]["metrics"][0]["target"]["value"]
    # The decision reports the query's value: the replicas' reads plus the primary's share (one target).
    load = metric["value"] - target
    assert decision["desired"] > decision["current"], decision
    assert (decision["desired"] - 1) * target >= load > 0, decision


def test_aws_prod_pod_monitors_scrape_the_exporters_its_deployments_run(
    servers_dir: Path,
    postgres_primary: postgres.PostgresServer,
    make_replica: Callable[[], postgres.PostgresServer],
    redis_server: local_redis.RedisServer,
) -> None:
    """The Kubernetes half of aws-prod: its exporter Deployments' pods, selected by its PodMonitors as
    the Prometheus Operator selects them, answer its default queries with the labels they rely on.
    Each exporter runs with its Deployment's environment, pointed at 127.0.0.1 instead of RDS and
    ElastiCache (no TLS, no password here); both replicas' exporters read the one local replica.
    The read-replica policy's RDS target is the operator's (issue 9 item 4), not run here."""
    rendering = manifests.render(planning.plan(ROOT, "aws-prod").resources)
    database = app_database(postgres_primary)
    replica = make_replica()
    run_dir = servers_dir / "deployed-loop-aws"
    deployments = [d for d in rendering.of_kind("Deployment") if d["metadata"]["namespace"] == "monitoring"]
    binaries = {
        "postgres-exporter": stockexporters.POSTGRES_EXPORTER,
        "redis-exporter": stockexporters.REDIS_EXPORTER,
    }
    local = {
        "postgres-exporter": {
            "DATA_SOURCE_URI": f"127.0.0.1:{replica.port}/{database}?sslmode=disable",
            "DATA_SOURCE_USER": "postgres",
            "DATA_SOURCE_PASS": "",
        },
        "redis-exporter": {"REDIS_ADDR": f"redis://127.0.0.1:{redis_server.port}"},
    }
    discovery = run_dir / "pods.json"
    jobs = [j for m in rendering.of_kind("PodMonitor") for j in pod_monitors.scrape_jobs(m, discovery)]
    prometheus = local_prometheus.PrometheusServer(run_dir / "prometheus", scrape_configs=tuple(jobs))
    exporters = Exporters()
    with redis_server.client() as client:
        client.delete("celery")
    try:
        pods = []
        for deployment in deployments:
            app = deployment["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/name"]
            name = deployment["metadata"]["name"]
            if app == "queue-exporter":
                [container] = deployment["spec"]["template"]["spec"]["containers"]
                broker = f"redis://127.0.0.1:{redis_server.port}/0"
                exporter = exporters.start(QueueDeploymentExporter(name, run_dir, container, broker))
            else:
                env = {**stack_objects.container_env(deployment), **local[app]}
                exporter = exporters.start(DeploymentExporter(name, binaries[app], run_dir, env))
            pods.append(stack_objects.pod_of(deployment, {"metrics": exporter.port}))
        pod_monitors.write_discovery(discovery, pods)
        prometheus.start()
        celery.Celery("deployed-loop-aws", broker=f"redis://127.0.0.1:{redis_server.port}/0").send_task("t")
        policies = {p["metadata"]["name"]: p["spec"] for p in rendering.of_kind("ScalingPolicy")}
        assert prometheus.wait_for(policies["workers"]["metrics"][0]["query"], lambda v: v == 1) == 1
        read_query = policies["read-replicas"]["metrics"][0]["query"]
        assert prometheus.wait_for(read_query, lambda v: v >= 0) >= 0
        series = prometheus.query_vector(f'pg_stat_database_xact_commit{{datname="{database}"}}')
        # The Workers board's queue series, from the stack's own queue exporter through its PodMonitor.
        assert (
            prometheus.wait_for(
                'max(scaleplane_queue_watch_up{job="monitoring/queue-exporter"})', lambda v: v == 1
            )
            == 1
        )
    finally:
        prometheus.stop()
        exporters.stop()
        with redis_server.client() as client:
            client.delete("celery")
    assert sorted((s["job"], s["role"], s["db_instance"]) for s, _ in series) == [
        ("monitoring/postgres-exporter", "replica", "replica-1"),
        ("monitoring/postgres-exporter", "replica", "replica-2"),
    ]
