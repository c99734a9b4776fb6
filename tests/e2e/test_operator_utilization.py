"""A CPU Utilization policy on the real operator: kmock's Deployment, a real Prometheus scraping an
exporter that publishes kube-state-metrics- and cAdvisor-shaped series per pod (the real names and
labels; their own binaries need a kubelet and an API server this machine does not have), and the
Deployment's /scale moving as the HPA's replica calculator says.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from tests.support import operating
from tests.support.operating import DEPLOYMENT, POLICY
from tests.support.waiting import eventually

pytestmark = [pytest.mark.servers, pytest.mark.slow]
NS = "team-cpu"
REQUEST = 0.5  # cores, every container "app"


@dataclass
class FakePod:
    name: str
    app: str
    usage: float  # cores
    ready: bool = True
    started: float = 0.0
    ready_at: float = 0.0
    used: float = 0.0  # the counter so far
    counted_at: float = 0.0


class ClusterSeries(Collector):
    """What kube-state-metrics and the kubelet's cAdvisor publish for these pods, at scrape time."""

    def __init__(self) -> None:
        self.pods: dict[str, FakePod] = {}

    def add(self, pod: FakePod) -> None:
        pod.counted_at = time.time()
        self.pods[pod.name] = pod

    def set_usage(self, name: str, cores: float) -> None:
        self._advance(self.pods[name], time.time())
        self.pods[name].usage = cores

    def _advance(self, pod: FakePod, now: float) -> None:
        pod.used += pod.usage * (now - pod.counted_at)
        pod.counted_at = now

    def collect(self) -> Iterator[Any]:
        now = time.time()
        pod_labels = ["namespace", "pod", "uid"]
        labels = GaugeMetricFamily("kube_pod_labels", "labels", labels=[*pod_labels, "label_app"])
        phase = GaugeMetricFamily("kube_pod_status_phase", "phase", labels=[*pod_labels, "phase"])
        ready = GaugeMetricFamily("kube_pod_status_ready", "ready", labels=[*pod_labels, "condition"])
        ready_time = GaugeMetricFamily("kube_pod_status_ready_time", "ready time", labels=pod_labels)
        start = GaugeMetricFamily("kube_pod_start_time", "start", labels=pod_labels)
        info = GaugeMetricFamily(
            "kube_pod_container_info", "info", labels=[*pod_labels, "container", "image"]
        )
        requests = GaugeMetricFamily(
            "kube_pod_container_resource_requests",
            "requests",
            labels=["namespace", "pod", "uid", "container", "node", "resource", "unit"],
        )
        cpu = CounterMetricFamily(
            "container_cpu_usage_seconds_total",
            "cAdvisor",
            labels=["container", "id", "image", "name", "namespace", "pod"],
        )
        for pod in self.pods.values():
            self._advance(pod, now)
            base = [NS, pod.name, f"uid-{pod.name}"]
            labels.add_metric([*base, pod.app], 1)
            for name in ("Pending", "Running", "Succeeded", "Failed", "Unknown"):
                phase.add_metric([*base, name], 1 if name == "Running" else 0)
            for condition in ("true", "false", "unknown"):
                ready.add_metric([*base, condition], 1 if (condition == "true") == pod.ready else 0)
            if pod.ready:
                ready_time.add_metric(base, pod.ready_at)
            start.add_metric(base, pod.started)
            info.add_metric([*base, "app", "shop/app:1"], 1)
            requests.add_metric([*base, "app", "node-1", "cpu", "core"], REQUEST)
            cgroup = f"/kubepods/pod{pod.name}"
            cpu.add_metric(["app", f"{cgroup}/app", "shop/app:1", "app", NS, pod.name], pod.used)
            # The pod's own cgroup (container="") sums its containers: never counted twice.
            cpu.add_metric(["", cgroup, "", "", NS, pod.name], pod.used)
        yield from (labels, phase, ready, ready_time, start, info, requests, cpu)


@pytest.fixture
def cluster_series(prometheus: Any) -> Iterator[ClusterSeries]:
    registry = CollectorRegistry()
    series = ClusterSeries()
    registry.register(series)
    server, thread = start_http_server(0, addr="127.0.0.1", registry=registry)
    address, job = f"127.0.0.1:{server.server_port}", "kube-utilization"
    prometheus.add_target(job, address)
    try:
        yield series
    finally:
        prometheus.remove_target(job, address)
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


async def test_cpu_utilization_scales_a_deployment_as_the_hpa_does(
    prometheus: Any, cluster_series: ClusterSeries
) -> None:
    settled = time.time() - 3600
    # 455m of 500m: 91 % (a rate read by Prometheus between two scrapes may truncate to 90)
    for name in ("web-a", "web-b", "web-c"):
        cluster_series.add(FakePod(name, "web", 0.455, started=settled, ready_at=settled + 5))
    cluster_series.add(FakePod("api-x", "api", 4.0, started=settled, ready_at=settled + 5))  # not web's
    usage = (
        'sum(rate(container_cpu_usage_seconds_total{namespace="team-cpu",pod=~"web-.*",container="app"}[5s]))'
    )
    await asyncio.to_thread(prometheus.wait_for, usage, lambda v: abs(v - 1.365) < 0.05, timeout=30)
    spec = {
        "targetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
        "minReplicas": 1,
        "maxReplicas": 10,
        "metrics": [
            {
                "name": "cpu",
                "type": "Resource",
                "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 60}},
            }
        ],
        "behavior": operating.fast_behavior(),
    }

    def replicas() -> Any:
        return (cluster.read_object(DEPLOYMENT, NS, "web") or {}).get("spec", {}).get("replicas")

    def seen() -> Any:
        """What the last decision written to the status saw of the cpu metric (None before the first)."""
        decision = ((cluster.read_object(POLICY, NS, "web-cpu") or {}).get("status") or {}).get(
            "lastDecision"
        )
        return decision["metrics"][0]["value"] if decision else None

    async with operating.cluster_api() as (cluster, url):
        cluster.put_object(DEPLOYMENT, operating.deployment("web", NS, replicas=3))
        cluster.put_object(POLICY, operating.policy("web-cpu", NS, spec))
        env = {"SCALEPLANE_CPU_RATE_SECONDS": "5"}
        async with operating.running_operator(url, prometheus.url, namespace=NS, env=env):
            # 91 % against 60: ratio 1.52, ceil(1.52 x 3 ready pods) = 5 (api-x's 4 cores are not web's).
            await eventually(lambda: replicas() == 5)
            await eventually(lambda: seen() in (90, 91))

            # The two new pods start unready inside the CPU initialization period: set aside, at 0 on a
            # scale-up, so (3 x 455m) / (5 x 500m) = 54 %, ratio 0.91, within tolerance: still 5.
            # Counted at their 200m (40 %), they would make 70 % and ask for ceil(1.18 x 5) = 6.
            now = time.time()
            for name in ("web-d", "web-e"):
                cluster_series.add(FakePod(name, "web", 0.2, ready=False, started=now))
            await asyncio.to_thread(
                prometheus.wait_for,
                'count(kube_pod_labels{namespace="team-cpu",label_app="web"})',
                lambda v: v == 5,
                timeout=15,
            )
            await asyncio.sleep(4)
            assert replicas() == 5

            # All five ready and settled at 155m (31 %): ratio 0.52, ceil(0.52 x 5) = 3.
            for name in ("web-d", "web-e"):
                pod = cluster_series.pods[name]
                pod.ready, pod.started, pod.ready_at = True, settled, settled + 5
            for name in ("web-a", "web-b", "web-c", "web-d", "web-e"):
                cluster_series.set_usage(name, 0.155)
            await eventually(lambda: replicas() == 3, timeout=30)
            # The 5 s rate falls to 31 % (it asked for 3 already on its way down, at 36 % or less).
            await eventually(lambda: seen() in (30, 31), timeout=15)
            assert replicas() == 3
