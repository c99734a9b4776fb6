"""The imported memory Utilization query, evaluated by a real Prometheus on cAdvisor- and
kube-state-metrics-shaped series, gives the HPA's replica count for the same pods.

The series are served by prometheus_client with the names and labels the two exporters publish (their
own binaries need a kubelet and an API server, which this machine does not have).
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterator

import pytest
from prometheus_client import CollectorRegistry, Gauge, start_http_server

from scaleplane.local.servers import prometheus as local_prometheus
from scaleplane.migrating import queries

MIB = 1024 * 1024


@pytest.fixture
def pods() -> Iterator[tuple[str, str]]:
    namespace = f"import-{uuid.uuid4().hex[:8]}"
    registry = CollectorRegistry()
    working_set = Gauge(
        "container_memory_working_set_bytes", "cAdvisor", ["namespace", "pod", "container"], registry=registry
    )
    requests = Gauge(
        "kube_pod_container_resource_requests",
        "kube-state-metrics",
        ["namespace", "pod", "container", "resource", "unit"],
        registry=registry,
    )
    # Three pods of Deployment `web`, each requesting 256Mi and using 192Mi (75 %), plus a pod of
    # another workload whose name starts alike and must not count.
    for pod, used in (
        ("web-7d4b9c6f5-abcde", 192),
        ("web-7d4b9c6f5-fghij", 192),
        ("web-7d4b9c6f5-klmno", 192),
    ):
        working_set.labels(namespace, pod, "app").set(used * MIB)
        requests.labels(namespace, pod, "app", "memory", "byte").set(256 * MIB)
    working_set.labels(namespace, "webhook-0", "app").set(4096 * MIB)
    requests.labels(namespace, "webhook-0", "app", "memory", "byte").set(256 * MIB)
    server, thread = start_http_server(0, addr="127.0.0.1", registry=registry)
    try:
        yield namespace, f"127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


def test_memory_utilization_query_gives_the_hpas_replica_count(
    prometheus: local_prometheus.PrometheusServer, pods: tuple[str, str]
) -> None:
    namespace, address = pods
    job = f"utilization-{namespace}"
    prometheus.add_target(job, address)
    try:
        target = {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}
        query = queries.resource_utilization("memory", namespace, target, None)
        value = prometheus.wait_for(query, timeout=30)
    finally:
        prometheus.remove_target(job, address)
    assert value == pytest.approx(225.0)  # 3 pods at 75 %, in pod-percent; webhook-0 left out
    # AverageValue 50: ceil(225 / 50) = 5, the HPA's ceil(3 pods x 75 / 50) = ceil(4.5) = 5.
    assert math.ceil(value / 50) == math.ceil(3 * 75 / 50) == 5
