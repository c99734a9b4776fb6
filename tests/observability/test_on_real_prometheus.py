"""Every dashboard query and every rule, evaluated by a real Prometheus on real series: must return data.

The rig is what a deployed stack publishes, on 127.0.0.1: the real operator (kopf, against a kmock
API) with its /metrics, a hook receiver for its decision hooks, PostgreSQL primary and streaming
replica each with postgres_exporter publishing the CloudNativePG series, a Patroni member (the local HA
database's series from its REST API), a Redis primary and replica with redis_exporter, the sample app
(the default objectives' service) under load, the jobs it enqueues drained by a real Celery worker with
the platform exporter's queue series, and a Function: the operator makes its policy, the real gateway
process wakes it from zero (a cold start) and a real runtime process answers its calls. Prometheus
scrapes them all every second and evaluates the generated rule files. A query that parses but finds no
series fails the test with its dashboard and panel named.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import requests

from scaleplane.functions import routes
from scaleplane.local import exporters
from scaleplane.local.app import readpool
from scaleplane.local.ha import patroni
from scaleplane.local.pools import workers
from scaleplane.local.servers import ports, postgres, processes, stockexporters
from scaleplane.local.servers import prometheus as local_prometheus
from scaleplane.local.servers import redis as local_redis
from scaleplane.observability import boards, generating
from scaleplane.reporting import dashboards as drawn
from tests.support import endpoints, functioning, operating
from tests.support.operating import DEPLOYMENT, FUNCTION, POLICY
from tests.support.waiting import eventually

pytestmark = [pytest.mark.servers, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]
NS = "team-obs"
FN = "resize"  # the rig's Function (its policy has its name, as the operator makes it)
# Grafana fills these in; `.*` is the dashboards' "All".
VARIABLES = {
    "$namespace": ".*",
    "$policy": ".*",
    "$function": ".*",
    "$service": ".*",
    "$__range": "5m",
    "$__rate_interval": "1m",
}


def _substituted(expr: str) -> str:
    for name, value in sorted(VARIABLES.items(), key=lambda item: -len(item[0])):
        expr = expr.replace(name, value)
    return expr


class Rig:
    def __init__(self, root: Path, primary: postgres.PostgresServer) -> None:
        self.root = root
        self.primary = primary
        self.stack = contextlib.ExitStack()
        rule_files = tuple(ROOT / "dashboards" / path for path in generating.rule_groups())
        self.prometheus = local_prometheus.PrometheusServer(root / "prometheus", rule_files=rule_files)
        self.app_port = 0
        self.cache_port = 0

    def start(self) -> Rig:
        s = self.stack
        s.callback(self.prometheus.stop)
        self.prometheus.start()
        replica = self.primary.create_replica(self.root / "pg-replica", start=True)
        s.callback(replica.destroy)
        for name, server in (("pg-primary", self.primary), ("pg-replica", replica)):
            exporter = stockexporters.PostgresExporter(name, server.dsn, self.root / "exporters")
            s.callback(exporter.stop)
            self.prometheus.add_target("cnpg", exporter.start().address)
        cache = local_redis.RedisServer(self.root / "redis-primary")
        s.callback(cache.stop)
        cache.start()
        cache_replica = local_redis.RedisServer(self.root / "redis-replica")
        s.callback(cache_replica.stop)
        with cache_replica.start().client() as client:
            client.execute_command("CONFIG", "SET", "repl-diskless-sync-delay", "0")
            client.replicaof(ports.HOST, cache.port)
        for name, server in (("redis-primary", cache), ("redis-replica", cache_replica)):
            exporter = stockexporters.RedisExporter(name, f"redis://{ports.HOST}:{server.port}", self.root)
            s.callback(exporter.stop)
            self.prometheus.add_target("redis", exporter.start().address)
        self.cache_port = cache.port
        # The local HA database: one Patroni member (with its etcd) publishing patroni_* on its REST API.
        patroni_cluster = patroni.PatroniCluster(self.root / "patroni", size=1, synchronous=False)
        s.callback(patroni_cluster.stop)
        patroni_cluster.start()
        for member in patroni_cluster.members.values():
            self.prometheus.add_target("patroni", f"{ports.HOST}:{member.api_port}")
        self._start_app(cache)
        return self

    @property
    def broker_url(self) -> str:
        return f"redis://{ports.HOST}:{self.cache_port}/0"

    def start_queue_exporter(self) -> None:
        """The platform exporter over the sample app's broker: depth; and the queue exporter it runs in
        process (`scaleplane.queues`): the oldest job's age, throughput."""
        sources = exporters.Sources(redis_url=self.broker_url, queues=[workers.DEFAULT_QUEUE])
        exporter = exporters.ExporterProcess(sources, self.root / "queue-exporter")
        self.stack.callback(exporter.stop)
        self.prometheus.add_target("exporter", exporter.start().address)

    def _start_app(self, cache: local_redis.RedisServer) -> None:
        pool_file = self.root / "readpool.json"
        readpool.write_members(pool_file, [])
        self.app_port = ports.free_port()
        argv = [
            sys.executable, "-m", "scaleplane.local.app.api", "--port", str(self.app_port),
            "--primary", self.primary.dsn, "--redis", f"redis://{ports.HOST}:{cache.port}/1",
            "--read-pool-file", str(pool_file),
        ]  # fmt: skip
        env = {**os.environ, "SCALEPLANE_BROKER_URL": f"redis://{ports.HOST}:{cache.port}/0"}
        app = processes.SupervisedProcess("sample-app", argv, run_dir=self.root / "app", env=env)
        self.stack.callback(app.stop)
        app.start()
        app.wait_ready(lambda: _http_ok(f"http://{ports.HOST}:{self.app_port}/healthz"), 60, "answering")
        self.prometheus.add_target("sample-app", f"{ports.HOST}:{self.app_port}")


def _http_ok(url: str) -> bool:
    return requests.get(url, timeout=1).status_code == 200


@pytest.fixture
def rig(servers_dir: Path, postgres_primary: postgres.PostgresServer) -> Iterator[Rig]:
    built = Rig(servers_dir / "observability", postgres_primary)
    try:
        yield built.start()
    finally:
        built.stack.close()


async def _load(port: int, count: int = 400) -> None:
    """Reads of the sample app over a key space wider than its cache holds: hits and misses."""
    async with aiohttp.ClientSession() as session:
        for _ in range(count):
            async with session.get(f"http://{ports.HOST}:{port}/items/{random.randint(1, 300)}") as rsp:
                await rsp.read()


def _spec(query: str, max_replicas: int, **more: Any) -> dict[str, Any]:
    return {
        **more,
        "targetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "worker"},
        "minReplicas": 1,
        "maxReplicas": max_replicas,
        "cooldownSeconds": 0,
        "metrics": [{"name": "backlog", "query": query, "target": {"type": "AverageValue", "value": 10}}],
        "behavior": operating.fast_behavior(),
    }


def _render_overview(url: str, path: Path) -> Path:
    end = time.time()
    grid = [end - 60 + i for i in range(61)]

    def fetch(expr: str) -> drawn.Fetched:
        params = {"query": expr, "start": grid[0], "end": grid[-1], "step": 1}
        body = requests.get(f"{url}/api/v1/query_range", params=params, timeout=10).json()
        found: drawn.Fetched = []
        for item in body["data"]["result"]:
            points = {round(float(t) - grid[0]): float(v) for t, v in item["values"]}
            found.append((item["metric"], [points.get(i, float("nan")) for i in range(len(grid))]))
        return found

    model = generating.dashboards()["scaleplane-overview.json"]
    return drawn.draw(model, [t - grid[0] for t in grid], fetch, path, substitute=_substituted)


def _expressions() -> list[tuple[str, str]]:
    found = [
        (f"{name} / {title}", expr)
        for name, model in generating.dashboards().items()
        for title, expr in boards.expressions(model)
    ]
    for path, groups in generating.rule_groups().items():
        for group in groups:
            for rule in group.rules:
                if hasattr(rule, "signal"):
                    found.append((f"{path} / alert {rule.name} (its signal)", rule.signal))
                else:
                    labels = ",".join(f'{k}="{v}"' for k, v in rule.labels)
                    found.append((f"{path} / record {rule.name}", f"{rule.name}{{{labels}}}"))
    return found


async def _drain_jobs(rig: Rig) -> None:
    """Jobs enqueued through the sample app with no worker (the oldest one ages), then one real Celery
    worker (the pools' hooks loaded) drains them: the Workers board's age and throughput."""
    prom = rig.prometheus
    rig.start_queue_exporter()
    enqueued = await asyncio.to_thread(
        requests.post, f"http://{ports.HOST}:{rig.app_port}/jobs?count=20&work=0.02", timeout=10
    )
    assert enqueued.status_code == 202
    age = "max(scaleplane_queue_oldest_age_seconds)"
    assert await asyncio.to_thread(prom.wait_for, age, lambda v: v >= 1, 30) >= 1
    pool = workers.WorkerPool("rig-workers", rig.root, broker_url=rig.broker_url, drain_timeout=10)
    await pool.open(1)
    try:
        taken = "max(scaleplane_queue_dequeued_total)"
        await asyncio.to_thread(prom.wait_for, taken, lambda v: v >= 20, 90)
    finally:
        await pool.close()


async def _call_at_zero(rig: Rig, waker: functioning.Waker, gateway: str, count: int = 12) -> None:
    """Calls to the Function while it is at zero: the gateway queues them and wakes it (a cold start);
    the waker starts a real runtime, and every call is answered."""
    async with aiohttp.ClientSession() as session:

        async def one(i: int) -> int:
            async with session.post(f"{gateway}/v1/functions/{NS}/{FN}", json={"name": f"n{i}"}) as rsp:
                return rsp.status

        statuses = await asyncio.gather(*(one(i) for i in range(count)))
    assert statuses == [200] * count
    assert [key for key, _ in waker.woken][:1] == [f"{NS}/{FN}"]
    # The runtime's own series feed the Function's policy (operator.manifests.functions.query).
    rig.prometheus.add_target("function", waker.servers[0].url.removeprefix("http://"))


async def test_every_dashboard_and_rule_expression_returns_data(rig: Rig) -> None:
    prom = rig.prometheus
    queue = operating.Exporter("obs_queue_depth")
    queue.set(50)
    prom.add_target("queue", queue.address)
    routes_dir = rig.root / "routes"
    routes.write_endpoints(routes.route_file(routes_dir, routes.FunctionKey(NS, FN)), [])  # known, at zero
    greet = f"{functioning.HANDLERS / 'greet.py'}:main"
    try:
        async with (
            operating.cluster_api() as (cluster, url),
            endpoints.HookReceiver() as hook,
            functioning.Waker(rig.root, routes_dir, greet, namespace=NS, name=FN) as waker,
        ):
            gateway = await asyncio.to_thread(
                functioning.start_gateway(rig.root, routes_dir, wakeUrl=waker.url).wait_ready
            )
            rig.stack.callback(gateway.kill)
            prom.add_target("gateway", gateway.url.removeprefix("http://"))
            cluster.put_object(DEPLOYMENT, operating.deployment("worker", NS, replicas=1))
            # 50 waiting at 10 per worker asks for 5; the policy allows 3: it scales and sits at max. With
            # a forecast (a short startup, so it forecasts after a few ticks): the Policy detail's panel.
            forecast = {"forecast": {"startupSeconds": 5, "historySeconds": 60}}
            workers_spec = _spec("sum(obs_queue_depth)", 3, **forecast)
            cluster.put_object(POLICY, operating.policy("workers", NS, workers_spec))
            # A query of a series nobody publishes: the loop decides without metrics (the fallback panels).
            broken = _spec("sum(no_exporter_publishes_this)", 3)
            cluster.put_object(POLICY, operating.policy("broken", NS, broken))
            function = {"image": "ghcr.io/acme/resize:1.4", "concurrency": 2, "maxReplicas": 3}
            body = {"metadata": {"name": FN, "namespace": NS}, "spec": function}
            cluster.put_object(FUNCTION, {"apiVersion": "scaleplane.io/v1alpha1", "kind": "Function", **body})
            env = {
                "SCALEPLANE_HOOKS": json.dumps(
                    [{"url": hook.url, "secret": "s3cret", "timeout": 2, "retries": 0}]
                )
            }
            async with operating.running_operator(url, prom.url, namespace=NS, env=env) as op:
                prom.add_target("scaleplane-operator", f"{ports.HOST}:{op.metrics_port}")
                await asyncio.gather(_load(rig.app_port), _call_at_zero(rig, waker, gateway.url))
                await eventually(lambda: hook.received, timeout=30)
                await _drain_jobs(rig)
                for ready in (
                    "sum(scaleplane_scale_total)",
                    "sum(scaleplane_hook_deliveries_total)",
                    "count(cnpg_pg_replication_lag)",
                    "count(redis_connected_slave_lag_seconds)",
                    'count(slo:sli_error:ratio_rate5m{slo_name="latency"})',
                    "sum(scaleplane_gateway_cold_start_seconds_count)",
                    "count(scaleplane_metric_forecast)",
                    f'count(scaleplane_metric_value{{policy="{FN}"}})',
                ):
                    await asyncio.to_thread(prom.wait_for, ready, lambda v: v > 0, 60)
                assert await asyncio.to_thread(prom.query, "count(cnpg_pg_replication_lag)") == 2
                # A counter needs two scrapes before increase() answers: each query may take until a
                # shared deadline to return data (most answer at once).
                deadline = time.monotonic() + 30
                missing = []
                for where, expr in _expressions():
                    while not await asyncio.to_thread(prom.query_vector, _substituted(expr)):
                        if time.monotonic() > deadline:
                            missing.append(f"{where}: {expr}")
                            break
                        await asyncio.sleep(0.5)
                assert missing == [], "no data for:\n" + "\n".join(missing)
                # The function panels joined to its policy show that policy, labelled with the function.
                [asked_expr, *_] = [
                    expr
                    for title, expr in boards.expressions(
                        generating.dashboards()["scaleplane-functions.json"]
                    )
                    if title == "Instances: ready vs asked"
                ]
                asked = await asyncio.to_thread(prom.query_vector, _substituted(asked_expr))
                assert {(m["policy"], m["function"]) for m, _ in asked} == {(FN, FN)}
                # Prometheus loaded every generated rule and evaluates each without an error.
                loaded = (
                    await asyncio.to_thread(requests.get, f"{prom.url}/api/v1/rules", timeout=5)
                ).json()["data"]
                health = {r["name"]: r["health"] for g in loaded["groups"] for r in g["rules"]}
                expected = {r.name for gs in generating.rule_groups().values() for g in gs for r in g.rules}
                assert set(health) == expected
                assert {name for name, state in health.items() if state != "ok"} == set()
                # The overview, drawn from these real series by the project's own plotting.
                png = _render_overview(prom.url, rig.root / "overview.png")
                assert png.stat().st_size > 20_000
    finally:
        prom.remove_target("queue", queue.address)
        queue.close()
