"""What the planned stacks deploy so the default policies' series exist, and the policies' arithmetic."""

from __future__ import annotations

import pytest

from scaleplane.infra import planning
from scaleplane.scaling import decisions, specs
from scaleplane.scaling.deciding import recommending
from tests.support import planned_stacks

POD_MONITOR = "kubernetes:monitoring.coreos.com/v1:PodMonitor"


def _env(plan: planning.Plan, resource: str) -> dict[str, str]:
    container = plan.named(resource).inputs["spec"]["template"]["spec"]["containers"][0]
    return {item["name"]: item["value"] for item in container["env"] if "value" in item}


def test_kubernetes_scrapes_cloudnative_pg_with_the_instance_role_as_a_label() -> None:
    dev = planned_stacks.planned("k8s-dev")
    (monitor,) = [
        m
        for m in dev.by_type(POD_MONITOR)
        if m.inputs["metadata"]["name"] not in ("scaleplane-operator", "queue-exporter")
    ]
    assert monitor.inputs["metadata"]["namespace"] == "data"
    assert monitor.inputs["spec"]["selector"] == {"matchLabels": {"cnpg.io/cluster": "app"}}
    (endpoint,) = monitor.inputs["spec"]["podMetricsEndpoints"]
    role = endpoint["relabelings"][0]
    assert role == {
        "sourceLabels": ["__meta_kubernetes_pod_label_cnpg_io_instanceRole"],
        "targetLabel": "role",
    }
    (cluster,) = dev.by_type("kubernetes:postgresql.cnpg.io/v1:Cluster")
    assert cluster.inputs["spec"]["monitoring"] == {"enablePodMonitor": False}  # ours, not a second one
    (stack,) = [
        r
        for r in dev.by_type("kubernetes:helm.sh/v3:Release")
        if r.inputs["chart"] == "kube-prometheus-stack"
    ]
    assert stack.inputs["values"]["kubeStateMetrics"] == {"enabled": True}
    assert stack.inputs["values"]["kubelet"]["serviceMonitor"] == {"cAdvisor": True}


def test_aws_runs_one_postgres_exporter_per_replica_and_one_redis_exporter() -> None:
    prod = planned_stacks.planned("aws-prod")
    exporters = [
        d.inputs["metadata"]["name"]
        for d in prod.by_type("kubernetes:apps/v1:Deployment")
        if d.inputs["metadata"]["namespace"] == "monitoring"
    ]
    assert sorted(exporters) == [
        "postgres-exporter-replica-1",
        "postgres-exporter-replica-2",
        "queue-exporter",
        "redis-exporter",
    ]
    env = _env(prod, "scaleplane-prod-exporters-postgres-exporter-replica-2")
    assert env["DATA_SOURCE_URI"].startswith("scaleplane-prod-db-replica-2.")
    assert env["DATA_SOURCE_URI"].endswith(":5432/app?sslmode=require")
    assert {m.inputs["metadata"]["name"] for m in prod.by_type(POD_MONITOR)} == {
        "postgres-exporter",
        "queue-exporter",
        "redis-exporter",
        "scaleplane-operator",  # the operator's own (docs/observability.md)
    }


@pytest.mark.parametrize("stack", ["aws-prod", "k8s-dev"])
def test_both_targets_run_the_queue_exporter_beside_the_broker(stack: str) -> None:
    plan = planned_stacks.planned(stack)
    (deployment,) = [
        d
        for d in plan.by_type("kubernetes:apps/v1:Deployment")
        if d.inputs["metadata"]["name"] == "queue-exporter"
    ]
    (container,) = deployment.inputs["spec"]["template"]["spec"]["containers"]
    command, args = container["command"], container["args"]
    assert command[:3] == ["python", "-m", "scaleplane.queues"] and args[:2] == ["--queue", "celery"]
    url = command[command.index("--redis-url") + 1]
    assert url.startswith("rediss://") and url.endswith(":6379/0")  # both stacks encrypt in transit
    if stack == "k8s-dev":  # beside the cache, with the chart's self-signed CA mounted
        assert deployment.inputs["metadata"]["namespace"] == "data"
        assert args[-2:] == ["--ca-file", "/tls/ca.crt"]
        (volume,) = deployment.inputs["spec"]["template"]["spec"]["volumes"]
        assert volume["secret"] == {"secretName": "scaleplane-dev-cache-crt"}
    (secret_ref,) = [
        e["valueFrom"]["secretKeyRef"] for e in container["env"] if e["name"] == "REDIS_PASSWORD"
    ]
    assert secret_ref == (
        {"name": "queue-exporter", "key": "password"}  # the token copied into `monitoring`
        if stack == "aws-prod"
        else {"name": "scaleplane-dev-cache-auth", "key": "redis-password"}  # the chart's own
    )
    (catalog,) = [
        c
        for c in plan.by_type("kubernetes:core/v1:ConfigMap")
        if c.inputs["metadata"].get("name") == "scaleplane-exports-queue-exporter"
    ]
    assert "scaleplane_queue_oldest_age_seconds" in catalog.inputs["data"]["series"].split("\n")
    if stack == "aws-prod":  # ElastiCache refuses CONFIG SET: the parameter group turns the events on
        (group,) = plan.by_type("aws:elasticache/parameterGroup:ParameterGroup")
        assert group.inputs["parameters"] == [{"name": "notify-keyspace-events", "value": "Kl"}]
        assert group.inputs["family"] == "redis7"


def test_the_kubernetes_redis_sidecar_gets_the_same_queue_check() -> None:
    dev = planned_stacks.planned("k8s-dev")
    (chart,) = [r for r in dev.by_type("kubernetes:helm.sh/v3:Release") if r.inputs["chart"] == "redis"]
    sidecar = {item["name"]: item["value"] for item in chart.inputs["values"]["metrics"]["extraEnvVars"]}
    prod = _env(planned_stacks.planned("aws-prod"), "scaleplane-prod-exporters-redis-exporter")
    assert (
        sidecar["REDIS_EXPORTER_CHECK_SINGLE_KEYS"]
        == prod["REDIS_EXPORTER_CHECK_SINGLE_KEYS"]
        == "db0=celery"
    )
    assert chart.inputs["values"]["metrics"]["serviceMonitor"]["enabled"] is True


def test_a_stack_query_overrides_the_exporters_default() -> None:
    plan = planned_stacks.planned(
        "k8s-dev", {"operator": {"readReplicas": {"query": "sum(x)", "targetValue": 9}}}
    )
    (policy,) = [
        p.inputs["spec"]
        for p in plan.by_type("kubernetes:scaleplane.io/v1alpha1:ScalingPolicy")
        if p.inputs["metadata"]["name"] == "read-replicas"
    ]
    # k8s-dev's Cluster counts its primary: one target's worth is added to any query (counting_primaries)
    assert policy["metrics"][0]["query"] == "(sum(x)) + 9"


@pytest.mark.parametrize("stack", ["aws-prod", "k8s-dev"])
def test_three_replicas_at_twice_the_target_ask_for_six(stack: str) -> None:
    """The sum over replicas against an AverageValue target: divided by the replicas once, not twice.

    With the old `avg(rate(...))` each replica's 1000/s averaged to 1000, divided again by 3 ready
    replicas: 333 per replica against 500, so the policy asked for 2 while every replica ran at twice
    its target. The sum is 3000, 3000 / 3 = 1000 per replica, twice the target: 6.
    """
    (policy,) = [
        p.inputs["spec"]
        for p in planned_stacks.planned(stack).by_type("kubernetes:scaleplane.io/v1alpha1:ScalingPolicy")
        if p.inputs["metadata"]["name"] == "read-replicas"
    ]
    spec = specs.parse_policy(policy)
    # A CloudNativePG Cluster's instances count its primary, which serves no replica reads: the query
    # adds one target's worth for it, and 3 replicas are 4 instances.
    primaries = 1 if stack == "k8s-dev" else 0
    query, target = spec.metrics[0].query, spec.metrics[0].target
    assert query.removeprefix("(" * primaries).startswith("sum(rate(") and target.type == "AverageValue"
    per_replica = 2 * target.value
    sample = decisions.MetricSample(spec.metrics[0].name, 3 * per_replica + primaries * target.value, None)
    members = 3 + primaries
    recommendation = recommending.recommend(
        spec.metrics[0], sample, members, members, recommending.tolerances_of(spec)
    )
    assert recommendation.replicas == 6 + primaries
