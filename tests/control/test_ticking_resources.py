"""A tick with Resource metrics: one set of per-pod queries for every policy, pods picked by each
target's selector, and a Prometheus that cannot be reached failing the metric (the engine holds)."""

from __future__ import annotations

from collections.abc import Collection, Mapping

from scaleplane.control import policies, ticking
from scaleplane.metrics import pods, prometheus, sources
from scaleplane.scaling import decisions, reasons, specs
from scaleplane.targets import protocol
from tests.support import endpoints

NOW = 80_000.0
CPU = {
    "name": "cpu",
    "type": "Resource",
    "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 50}},
}


class Target:
    def __init__(self, selector: str | None) -> None:
        self.selector = selector
        self.scales: list[int] = []

    async def read(self) -> protocol.ReplicaCount:
        return protocol.ReplicaCount(2, 2, self.selector)

    async def scale(self, replicas: int) -> None:
        self.scales.append(replicas)


class PodSource:
    """Answers every per-pod query with the series of two namespaces' pods, all at 80 % of 1 core."""

    def __init__(self) -> None:
        self.asked: list[list[str]] = []

    async def fetch(self, queries: Collection[str]) -> Mapping[str, sources.QueryResult]:
        return {}

    async def fetch_series(self, queries: Collection[str]) -> Mapping[str, sources.SeriesResult]:
        self.asked.append(sorted(queries))
        listed = [("a", "web-1", "web"), ("a", "web-2", "web"), ("b", "web-1", "web"), ("b", "api-1", "api")]
        answers = {}
        for namespaces in ({"a"}, {"b"}, {"a", "b"}):
            for key, query in pods.queries(namespaces, {"cpu"}).items():
                found = []
                for ns, pod, app in listed:
                    labels = {"namespace": ns, "pod": pod}
                    row = {
                        "labels": ({**labels, "label_app": app}, 1.0),
                        "ready": (labels, 1.0),
                        "start": (labels, NOW - 3600),
                        "requests_cpu": ({**labels, "container": "app"}, 1.0),
                        "usage_cpu": ({**labels, "container": "app"}, 0.8),
                    }.get(key)
                    if row is not None:
                        found.append(row)
                answers[query] = sources.SeriesResult(tuple(found))
        return {q: answers[q] for q in queries}


def managed(namespace: str, target: Target) -> policies.ManagedPolicy:
    spec = specs.parse_policy({"targetRef": {"name": "web"}, "maxReplicas": 10, "metrics": [CPU]})
    return policies.ManagedPolicy(
        policies.PolicyKey(namespace, "web"), spec, decisions.ScalingState(), target
    )


async def test_one_set_of_pod_queries_serves_every_policy_and_each_picks_its_own_pods() -> None:
    source = PodSource()
    a, b = Target("app=web"), Target("app=web")
    outcomes = await ticking.Controller(source).tick([managed("a", a), managed("b", b)], NOW)
    assert len(source.asked) == 1 and len(source.asked[0]) == len(pods.queries({"a"}, {"cpu"}))
    # a: two pods at 80 % of their request against 50: ceil(1.6 x 2) = 4; b: one web pod: ceil(1.6) = 2.
    assert [o.decision.desired if o.decision else None for o in outcomes] == [4, 2]
    assert a.scales == [4] and b.scales == []
    samples = outcomes[1].observation.samples if outcomes[1].observation else ()
    assert [p.name for p in samples[0].pods or ()] == ["web-1"]  # api-1 is not web's


async def test_a_target_without_selector_and_an_unreachable_prometheus_fail_the_metric() -> None:
    (outcome,) = await ticking.Controller(PodSource()).tick([managed("a", Target(None))], NOW)
    assert outcome.decision is not None and outcome.decision.reason == reasons.METRICS_UNAVAILABLE
    assert "no pod selector" in outcome.decision.recommendations[0].note
    source = prometheus.PrometheusSource(f"http://127.0.0.1:{endpoints.free_port()}", deadline=3)
    try:
        (outcome,) = await ticking.Controller(source).tick([managed("a", Target("app=web"))], NOW)
    finally:
        source.close()
    assert outcome.decision is not None and outcome.decision.desired == 2  # held
    assert outcome.decision.reason == reasons.METRICS_UNAVAILABLE
    assert "cannot connect to Prometheus" in outcome.decision.recommendations[0].note
