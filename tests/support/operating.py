"""Run the scaleplane operator (kopf.testing.KopfRunner) against a kmock cluster, and a test exporter.

    async with cluster_api() as (cluster, url):
        async with running_operator(url, prometheus_url, namespace="team-a") as op:
            await waiting.eventually(lambda: ...)  # tests.support.waiting

The cluster runs on the test's event loop and the operator in KopfRunner's thread, so everything here
waits with `await` (never `time.sleep`), and the runner is entered and left in a worker thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import kmock
import kopf
import yaml
from kopf.testing import KopfRunner
from prometheus_client import CollectorRegistry, Gauge, start_http_server

from scaleplane.operator.wiring import handlers
from tests.support import endpoints, environment, waiting
from tests.support.kmock_cluster import KubernetesCluster

ALL_VERBS = ["get", "list", "watch", "create", "update", "patch", "delete"]
RESOURCES = {
    "scaleplane.io/v1alpha1/scalingpolicies": {
        "kind": "ScalingPolicy",
        "singular": "scalingpolicy",
        "shortnames": ["sp"],
        "subresources": ["status"],
    },
    "scaleplane.io/v1alpha1/functions": {
        "kind": "Function",
        "singular": "function",
        "shortnames": ["fn"],
        "subresources": ["status"],
    },
    "apps/v1/deployments": {
        "kind": "Deployment",
        "singular": "deployment",
        "subresources": ["status", "scale"],
    },
    "apps/v1/statefulsets": {
        "kind": "StatefulSet",
        "singular": "statefulset",
        "subresources": ["status", "scale"],
    },
    "postgresql.cnpg.io/v1/clusters": {
        "kind": "Cluster",
        "singular": "cluster",
        "subresources": ["status", "scale"],
    },
    "v1/services": {"kind": "Service", "singular": "service"},
    "discovery.k8s.io/v1/endpointslices": {"kind": "EndpointSlice", "singular": "endpointslice"},
    "v1/events": {"kind": "Event", "singular": "event"},
    "coordination.k8s.io/v1/leases": {"kind": "Lease", "singular": "lease"},
}
POLICY = "scaleplane.io/v1alpha1/scalingpolicies"
FUNCTION = "scaleplane.io/v1alpha1/functions"
DEPLOYMENT = "apps/v1/deployments"


@contextlib.asynccontextmanager
async def cluster_api() -> AsyncIterator[tuple[KubernetesCluster, str]]:
    """A kmock API with every resource the operator uses declared (discovery answers for them)."""
    async with KubernetesCluster() as cluster, kmock.Server(cluster) as server:
        for resource, info in RESOURCES.items():
            cluster.resources[resource] = {"namespaced": True, "verbs": ALL_VERBS, **info}
        # Discovery only: kopf waits to see the resource, then (scanning disabled) never lists it.
        cluster.resources["v1/namespaces"] = {"namespaced": False, "verbs": ALL_VERBS, "kind": "Namespace"}
        yield cluster, str(server.url).rstrip("/")


def write_kubeconfig(
    path: Path,
    server: str,
    user: dict[str, Any] | None = None,
    *,
    others: dict[str, str] | None = None,
    current: str = "kmock",
) -> Path:
    """A kubeconfig for `server` whose user is `user` (kubeconfig `user:` fields; default a static token),
    in the context `kmock`. `others` adds a context per name -> server (its user's token "NAME-token"),
    and `current` says which context is the current one."""
    others = others or {}
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {"name": "kmock", "cluster": {"server": server}},
            *({"name": name, "cluster": {"server": url}} for name, url in others.items()),
        ],
        "users": [
            {"name": "tester", "user": user or {"token": "tester-token"}},
            *({"name": name, "user": {"token": f"{name}-token"}} for name in others),
        ],
        "contexts": [
            {"name": "kmock", "context": {"cluster": "kmock", "user": "tester"}},
            *({"name": name, "context": {"cluster": name, "user": name}} for name in others),
        ],
        "current-context": current,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(config))
    return path


@contextlib.asynccontextmanager
async def running_operator(
    api_url: str,
    prometheus_url: str,
    *,
    namespace: str,
    tick: float = 1.0,
    env: dict[str, str] | None = None,
    functions: bool = True,
    all_namespaces: bool = False,
) -> AsyncIterator[KopfRunner]:
    """The operator for `namespace`, ticking every `tick` s, /metrics on a free port, Lease on.
    With `all_namespaces` it serves every namespace (`--all-namespaces`, as operator/deployment.yaml
    runs it); `namespace` is then only where its Lease lives.

    It reaches `api_url` through a kubeconfig, as a user's operator does (`env["KUBECONFIG"]` to give
    your own, e.g. with a token file or an exec plugin: see `write_kubeconfig`).

        Returns once the operator has started (its /healthz answers): it has read its settings by then,
        so a second operator may be started with other ones. `runner.metrics_port` is its /metrics port.
    """
    env = dict(env or {})
    env.setdefault("SCALEPLANE_METRICS_ADDR", f"127.0.0.1:{endpoints.free_port()}")
    with contextlib.ExitStack() as files:
        if "KUBECONFIG" not in env:  # one of its own, removed when the operator has stopped
            folder = files.enter_context(kubeconfig_dir())
            env["KUBECONFIG"] = str(write_kubeconfig(folder / "config", api_url))
        scope = (namespace, tick, functions, all_namespaces)
        async with _operator(api_url, prometheus_url, env, *scope) as runner:
            yield runner


@contextlib.contextmanager
def kubeconfig_dir() -> Iterator[Path]:
    """A private directory for a kubeconfig, removed with everything in it when the block ends."""
    with tempfile.TemporaryDirectory(prefix="sp-kube-") as folder:
        yield Path(folder)


@contextlib.asynccontextmanager
async def _operator(
    api_url: str,
    prometheus_url: str,
    env: dict[str, str],
    namespace: str,
    tick: float,
    functions: bool,
    all_namespaces: bool,
) -> AsyncIterator[KopfRunner]:
    metrics_port = int(env["SCALEPLANE_METRICS_ADDR"].rpartition(":")[2])
    values = {
        "SCALEPLANE_PROMETHEUS_URL": prometheus_url,
        "SCALEPLANE_TICK_SECONDS": str(tick),
        "SCALEPLANE_LEASE_NAMESPACE": namespace,
        "SCALEPLANE_LEASE_SECONDS": "3",
        **env,
    }
    scope = ["--all-namespaces"] if all_namespaces else ["--namespace", namespace]
    args = ["run", "-m", "scaleplane.operator", "--standalone", *scope]
    # kmock cannot parse the cluster-wide `/api/v1/namespaces` path: tell kopf not to scan namespaces,
    # so it takes `--namespace` as an existing namespace (as it does when RBAC forbids listing them).
    kopf_settings = kopf.OperatorSettings()
    kopf_settings.scanning.disabled = True
    # A registry of its own: with or without the Function handlers, whatever earlier tests imported.
    registry = kopf.OperatorRegistry()
    handlers.register(registry, functions=functions)
    runner = KopfRunner(args, timeout=30, settings=kopf_settings, registry=registry)
    # The operator reads its settings from the environment (at login and at start-up, both in its own
    # thread, at times of its choosing): keep them set for the whole run.
    with environment.layered(values):
        await asyncio.to_thread(runner.__enter__)
        try:
            await waiting.eventually(lambda: _answers(metrics_port), timeout=20, every=0.1)
            runner.metrics_port = metrics_port  # type: ignore[attr-defined]
            yield runner
        finally:
            await asyncio.to_thread(runner.__exit__, None, None, None)


async def _answers(port: int) -> bool:
    try:
        async with aiohttp.ClientSession() as session, session.get(f"http://127.0.0.1:{port}/healthz") as rsp:
            return rsp.status == 200
    except aiohttp.ClientError:
        return False


async def merge_patch(api_url: str, path: str, body: dict[str, Any]) -> None:
    """What `kubectl patch --type merge` sends to `path` of the (kmock) API server; it must answer 200."""
    headers = {"Content-Type": "application/merge-patch+json"}
    async with (
        aiohttp.ClientSession() as s,
        s.patch(api_url + path, data=json.dumps(body), headers=headers) as r,
    ):
        assert r.status == 200, await r.text()


class Exporter:
    """A real Prometheus exporter on 127.0.0.1 (prometheus_client's HTTP server) with one gauge."""

    def __init__(self, name: str, labels: tuple[str, ...] = ()) -> None:
        self.registry = CollectorRegistry()
        self.gauge = Gauge(name, f"test gauge {name}", labels, registry=self.registry)
        self.server, self.thread = start_http_server(0, addr="127.0.0.1", registry=self.registry)
        self.address = f"127.0.0.1:{self.server.server_port}"

    def set(self, value: float, **labels: str) -> None:
        (self.gauge.labels(**labels) if labels else self.gauge).set(value)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def deployment(name: str, namespace: str, replicas: int = 1) -> dict[str, Any]:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "w", "image": "w:1"}]},
            },
        },
    }


def policy(name: str, namespace: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "scaleplane.io/v1alpha1",
        "kind": "ScalingPolicy",
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }


def fast_behavior(down_window: int = 0) -> dict[str, Any]:
    """Scale as fast as the tick allows: no windows (unless asked), big 1-second rate limits."""
    return {
        "scaleUp": {
            "stabilizationWindowSeconds": 0,
            "policies": [{"type": "Pods", "value": 100, "periodSeconds": 1}],
        },
        "scaleDown": {
            "stabilizationWindowSeconds": down_window,
            "policies": [{"type": "Pods", "value": 100, "periodSeconds": 1}],
        },
    }


Check = Callable[[], Awaitable[Any] | Any]


@contextlib.contextmanager
def scraped_exporter(prometheus: Any, job: str, labels: tuple[str, ...] = ()) -> Iterator[Exporter]:
    """A `load` gauge exporter that `prometheus` scrapes as `job`, removed again however the test ends."""
    exp = Exporter("load", labels)
    prometheus.add_target(job, exp.address)
    try:
        yield exp
    finally:
        prometheus.remove_target(job, exp.address)
        exp.close()


def job_name(request: Any) -> str:
    """A scrape job name per test: its node name, cut to 60 characters, without parametrize brackets."""
    return f"op-{request.node.name}"[:60].replace("[", "-").replace("]", "")


def load_spec(target: str, query: str, max_replicas: int = 8) -> dict[str, Any]:
    """A Deployment policy on `query` at 10 a replica, with no cooldown and the fast behavior."""
    return {
        "targetRef": {"kind": "Deployment", "name": target},
        "minReplicas": 1,
        "maxReplicas": max_replicas,
        "cooldownSeconds": 0,
        "metrics": [{"name": "load", "query": query, "target": {"type": "AverageValue", "value": 10}}],
        "behavior": fast_behavior(),
    }
