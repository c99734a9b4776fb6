"""The Kubernetes example stack (an existing cluster) planned under mocks."""

from __future__ import annotations

import math

import pytest
import yaml

from scaleplane.infra import planning
from tests.support import planned_stacks

CNPG = "kubernetes:postgresql.cnpg.io/v1:Cluster"
RELEASE = "kubernetes:helm.sh/v3:Release"


@pytest.fixture(scope="module")
def dev() -> planning.Plan:
    return planned_stacks.planned("k8s-dev")


def _release(plan: planning.Plan, chart: str) -> dict:
    (release,) = [r for r in plan.by_type(RELEASE) if r.inputs["chart"] == chart]
    return release.inputs


def test_cloudnativepg_cluster_has_one_plus_n_instances_and_exports_the_read_only_service(
    dev: planning.Plan,
) -> None:
    (postgres,) = dev.by_type(CNPG)
    assert postgres.inputs["spec"]["instances"] == 2
    assert postgres.inputs["spec"]["affinity"]["topologyKey"] == "topology.kubernetes.io/zone"
    assert postgres.inputs["spec"]["affinity"]["podAntiAffinityType"] == "preferred"
    assert dev.outputs["databaseReadEndpoints"] == ["app-ro.data.svc.cluster.local"]
    assert dev.outputs["databaseWriterEndpoint"] == "app-rw.data.svc.cluster.local"
    assert _release(dev, "cloudnative-pg")["namespace"] == "cnpg-system"


def test_production_on_kubernetes_requires_zone_spread_and_scales_instances() -> None:
    plan = planned_stacks.planned("k8s-dev", {"environment": "prod", "database": {"readReplicas": 3}})
    (postgres,) = plan.by_type(CNPG)
    assert postgres.inputs["spec"]["instances"] == 4
    assert postgres.inputs["spec"]["affinity"]["podAntiAffinityType"] == "required"


def test_redis_runs_with_a_replica_auth_from_a_generated_secret_and_tls(dev: planning.Plan) -> None:
    values = _release(dev, "redis")["values"]
    assert values["architecture"] == "replication" and values["replica"]["replicaCount"] == 1
    assert values["auth"]["existingSecret"] == "scaleplane-dev-cache-auth"
    assert values["tls"]["enabled"] is True
    (secret,) = dev.by_type("kubernetes:core/v1:Secret")
    assert secret.inputs["metadata"]["name"] == "scaleplane-dev-cache-auth"
    assert dev.outputs["cacheReaderEndpoint"] == "scaleplane-dev-cache-replicas.data.svc.cluster.local"


def test_the_cache_endpoints_are_the_names_the_chart_gives_its_services(dev: planning.Plan) -> None:
    # bitnami/redis names them <fullname>-master and <fullname>-replicas, and its generated certificate
    # <fullname>-crt; without an override the fullname of release "scaleplane-dev-cache" would be
    # "scaleplane-dev-cache-redis", and every endpoint below would point at no Service.
    release = _release(dev, "redis")
    fullname = release["values"]["fullnameOverride"]
    assert fullname == release["name"] == "scaleplane-dev-cache"
    assert dev.outputs["cacheEndpoint"] == f"{fullname}-master.data.svc.cluster.local"
    assert dev.outputs["cacheReaderEndpoint"] == f"{fullname}-replicas.data.svc.cluster.local"


def test_everything_goes_through_the_kubeconfig_provider(dev: planning.Plan) -> None:
    (provider,) = dev.by_type("pulumi:providers:kubernetes")
    assert provider.inputs["context"] == "kind-scaleplane"
    kube = [r for r in dev.resources if r.type.startswith("kubernetes:")]
    assert kube and all(r.provider == provider.name for r in kube)
    assert not [r for r in dev.resources if r.type.startswith("aws:")]


def test_monitoring_release_selects_rules_and_dashboards_from_anywhere(dev: planning.Plan) -> None:
    values = _release(dev, "kube-prometheus-stack")["values"]
    assert values["prometheus"]["prometheusSpec"]["ruleSelectorNilUsesHelmValues"] is False
    assert values["grafana"]["sidecar"]["dashboards"]["label"] == "grafana_dashboard"


def test_operator_manifests_deploy_kind_by_kind_and_policies_target_workers_and_cnpg(
    dev: planning.Plan,
) -> None:
    operator_children = [r for r in dev.resources if r.parent_name == "scaleplane-dev-operator"]
    kinds = {r.type.rsplit(":", 1)[-1] for r in operator_children}
    assert {
        "CustomResourceDefinition",
        "ServiceAccount",
        "ClusterRole",
        "ClusterRoleBinding",
        "Deployment",
    } <= kinds
    policies = {
        p.inputs["metadata"]["name"]: p.inputs
        for p in dev.by_type("kubernetes:scaleplane.io/v1alpha1:ScalingPolicy")
    }
    assert policies["read-replicas"]["spec"]["targetRef"] == {
        "apiVersion": "postgresql.cnpg.io/v1",
        "kind": "Cluster",
        "name": "app",
    }
    assert policies["read-replicas"]["metadata"]["namespace"] == "data"
    assert policies["workers"]["spec"]["metrics"][0]["query"] == 'max(redis_key_size{key="celery"})'


def test_workers_get_requests_a_pinned_image_and_a_matching_pdb(dev: planning.Plan) -> None:
    (deployment,) = [
        d for d in dev.by_type("kubernetes:apps/v1:Deployment") if d.inputs["metadata"]["name"] == "workers"
    ]
    (budget,) = dev.by_type("kubernetes:policy/v1:PodDisruptionBudget")
    container = deployment.inputs["spec"]["template"]["spec"]["containers"][0]
    assert container["resources"]["requests"] == {"cpu": "250m", "memory": "256Mi"}
    selector = budget.inputs["spec"]["selector"]["matchLabels"]
    labels = deployment.inputs["spec"]["template"]["metadata"]["labels"]
    assert selector.items() <= labels.items()


def test_monitoring_and_operator_can_be_left_out() -> None:
    plan = planned_stacks.planned(
        "k8s-dev", {"monitoring": {"enabled": False}, "operator": {"enabled": False}}
    )
    types = {r.type for r in plan.resources}
    assert (
        "scaleplane:monitoring:Monitoring" not in types and "scaleplane:operator:ScalingOperator" not in types
    )
    assert plan.outputs["prometheusUrl"] is None


def test_the_operator_namespace_is_created_when_the_manifests_only_name_it(tmp_path) -> None:
    fixture = planned_stacks.ROOT / planned_stacks.FIXTURE_MANIFESTS
    (tmp_path / "crds").mkdir()
    (tmp_path / "crds" / "sp.yaml").write_text((fixture / "crds" / "scalingpolicies.yaml").read_text())
    rbac = (fixture / "rbac.yaml").read_text().split("---", 1)[1]  # without its Namespace object
    (tmp_path / "rbac.yaml").write_text(rbac)
    (tmp_path / "deployment.yaml").write_text((fixture / "deployment.yaml").read_text())
    plan = planning.plan(
        planned_stacks.ROOT, "k8s-dev", planned_stacks.stack_file("k8s-dev", manifests=str(tmp_path))
    )
    namespaces = [r.inputs["metadata"]["name"] for r in plan.by_type("kubernetes:core/v1:Namespace")]
    assert "scaleplane-system" in namespaces


@pytest.mark.parametrize("stack", ["k8s-dev", "aws-prod"])
def test_no_two_resources_claim_the_same_kubernetes_object(stack: str) -> None:
    plan = planned_stacks.planned(stack)
    seen: dict[tuple[str, str, str], str] = {}
    for resource in plan.resources:
        metadata = resource.inputs.get("metadata")
        if not resource.type.startswith("kubernetes:") or not isinstance(metadata, dict):
            continue
        key = (resource.type, str(metadata.get("namespace", "")), str(metadata.get("name", resource.name)))
        assert key not in seen, f"{resource.name} and {seen[key]} both create {key}"
        seen[key] = resource.name


def test_functions_enabled_deploys_the_gateway_for_the_configured_namespaces() -> None:
    plan = planned_stacks.planned(
        "k8s-dev",
        {"operator": {"manifestsDir": "operator", "functions": {"enabled": True, "namespaces": ["team-a"]}}},
    )
    names = {
        (r.type.rsplit(":", 1)[-1], r.inputs["metadata"].get("name"))
        for r in plan.resources
        if isinstance(r.inputs.get("metadata"), dict)
    }
    assert {("Deployment", "scaleplane-gateway"), ("Service", "scaleplane-gateway"),
            ("ClusterRole", "scaleplane-gateway"), ("ConfigMap", "scaleplane-gateway")} <= names  # fmt: skip
    (configmap,) = [
        r
        for r in plan.by_type("kubernetes:core/v1:ConfigMap")
        if r.inputs["metadata"].get("name") == "scaleplane-gateway"
    ]
    assert yaml.safe_load(configmap.inputs["data"]["gateway.yaml"])["kubernetes"]["namespaces"] == ["team-a"]
    without = planned_stacks.planned("k8s-dev", {"operator": {"manifestsDir": "operator"}})
    assert not [
        r for r in without.resources if r.inputs.get("metadata", {}).get("name") == "scaleplane-gateway"
    ]


def test_functions_enabled_without_the_gateway_manifest_is_a_config_error(tmp_path) -> None:
    from scaleplane.infra import config as infra_config
    from scaleplane.infra import scaling_operator

    fixture = planned_stacks.ROOT / planned_stacks.FIXTURE_MANIFESTS
    with pytest.raises(infra_config.ConfigError, match=r"operator/gateway\.yaml"):
        scaling_operator.manifest_files(fixture.parent, fixture.name, functions=True)


def test_the_read_replica_policy_counts_the_primary_its_cluster_scales(dev: planning.Plan) -> None:
    """A CloudNativePG Cluster's /scale is `instances`, the primary included, while the stack's config
    (operator.readReplicas: minReplicas 1, maxReplicas 5, targetValue 500) speaks of read replicas.
    Found by tests/e2e/test_deployed_loop.py: the policy asked for 1 instance at low load (the lone
    primary, an empty `<name>-ro` Service), and for ceil(load / 500) instances under load, one replica
    short. AverageValue asks for ceil(value / target) members, so the query adds one target's worth."""
    (policy,) = [
        p.inputs["spec"]
        for p in dev.by_type("kubernetes:scaleplane.io/v1alpha1:ScalingPolicy")
        if p.inputs["metadata"]["name"] == "read-replicas"
    ]
    assert (policy["minReplicas"], policy["maxReplicas"]) == (1 + 1, 5 + 1)
    (metric,) = policy["metrics"]
    assert metric["target"] == {"type": "AverageValue", "value": 500}
    assert metric["query"] == (
        '(sum(rate(cnpg_pg_stat_database_xact_commit{role="replica",datname="app"}[2m]))) + 500'
    )
    # 1200 reads/s on the replicas: ceil((1200 + 500) / 500) = 4 instances = 3 replicas >= 1200 / 500
    assert math.ceil((1200 + 500) / 500) - 1 >= 1200 / 500
