"""The whole tick on real servers: a real Prometheus scraping a real exporter, the real engine, and a
Deployment in kmock scaled through /scale. Up and down as the metric moves; held when data is missing."""

from __future__ import annotations

import kmock
import pytest
from prometheus_client import CollectorRegistry, Gauge, start_http_server

from scaleplane.control import policies, ticking
from scaleplane.metrics import prometheus as prometheus_source
from scaleplane.scaling import decisions, specs
from scaleplane.targets import registry
from tests.support.kmock_cluster import KubernetesCluster, kube_client

JOB = "control-loop-tests"
DEPLOYMENTS = "apps/v1/deployments"


@pytest.fixture
def depth_gauge(prometheus):
    reg = CollectorRegistry()
    gauge = Gauge("sp_loop_depth", "queue depth", ["queue"], registry=reg)
    server, thread = start_http_server(0, addr="127.0.0.1", registry=reg)
    prometheus.add_target(JOB, f"127.0.0.1:{server.server_port}")
    try:
        yield gauge
    finally:
        prometheus.remove_target(JOB, f"127.0.0.1:{server.server_port}")
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def policy_spec(query: str) -> specs.ScalingPolicySpec:
    fast = {"stabilizationWindowSeconds": 0, "policies": [{"type": "Pods", "value": 100, "periodSeconds": 1}]}
    return specs.parse_policy(
        {
            "targetRef": {"kind": "Deployment", "name": "worker"},
            "minReplicas": 1,
            "maxReplicas": 10,
            "cooldownSeconds": 0,
            "behavior": {"scaleUp": fast, "scaleDown": fast},
            "metrics": [{"name": "depth", "query": query, "target": {"type": "AverageValue", "value": 10}}],
        }
    )


async def test_a_deployment_follows_the_metric_and_holds_when_data_is_missing(prometheus, depth_gauge):
    query = f'sum(sp_loop_depth{{job="{JOB}", queue="work"}})'
    cluster = KubernetesCluster()  # auto_ready: the make-believe controller readies what is asked
    async with cluster, kmock.Server(cluster) as server:
        cluster.resources[DEPLOYMENTS] = {"namespaced": True, "kind": "Deployment", "subresources": ["scale"]}
        cluster.put_object(
            DEPLOYMENTS,
            {
                "kind": "Deployment",
                "metadata": {"name": "worker", "namespace": "team-a"},
                "spec": {"replicas": 1},
            },
        )
        targets = registry.for_cluster(kube_client(server.url), fresh_for=0.0)
        source = prometheus_source.PrometheusSource(prometheus.url)
        controller = ticking.Controller(source)
        spec = policy_spec(query)
        managed = policies.ManagedPolicy(
            policies.PolicyKey("team-a", "worker"),
            spec,
            decisions.ScalingState(),
            targets.resolve("team-a", spec.target_ref),
        )

        async def tick(now: float) -> policies.TickOutcome:
            [outcome] = await controller.tick([managed], now)
            managed.state = outcome.state
            assert outcome.error is None, outcome.error
            return outcome

        def replicas() -> int:
            return cluster.read_object(DEPLOYMENTS, "team-a", "worker")["spec"]["replicas"]

        try:
            depth_gauge.labels("work").set(50)
            prometheus.wait_for(query, lambda v: v == 50, timeout=60)
            up = await tick(1000.0)
            assert (up.decision.current, up.decision.desired, up.scaled) == (1, 5, True)
            assert up.observation.samples[0].value == 50
            assert replicas() == 5

            depth_gauge.labels("work").set(10)
            prometheus.wait_for(query, lambda v: v == 10, timeout=30)
            down = await tick(1030.0)
            assert (down.decision.current, down.decision.desired, down.scaled) == (5, 1, True)
            assert replicas() == 1

            depth_gauge.labels("work").set(500)
            prometheus.wait_for(query, lambda v: v == 500, timeout=30)
            await tick(1060.0)
            assert replicas() == 10  # maxReplicas bounds it

            depth_gauge.remove("work")  # the series disappears: no data, which must not scale down
            prometheus.wait_for(f"absent({query})", lambda v: v == 1, timeout=30)
            held = await tick(1090.0)
            assert held.observation.samples[0].error.startswith("no data")
            assert not held.scaled and held.decision.desired == 10
            assert replicas() == 10
        finally:
            source.close()
