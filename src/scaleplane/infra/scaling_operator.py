"""`ScalingOperator`: the operator's CRDs, RBAC and Deployment from `operator/`, plus default policies.

The manifests are generated elsewhere (operator/crds/*.yaml, operator/rbac.yaml,
operator/deployment.yaml) and deployed here as they are, kind by kind, so the offline plan and the
guardrails see every object. A missing file is a config error that names it: planning without the
operator is `scaleplane:operator.enabled: false`, never a silent gap.

With `operator.functions.enabled`, operator/gateway.yaml (the function gateway: its RBAC, settings,
Deployment and Service) is deployed the same way, its settings pointed at `operator.functions.namespaces`.
Every container of these files that runs the operator's image runs `operator.image` (a registry mirror's),
and so do the Functions the operator runs from a `source` (SCALEPLANE_FUNCTION_RUNTIME_IMAGE).

The default ScalingPolicies (workers, read replicas) are built from stack config through the same
spec model the operator validates with, so a policy this stack would apply is a policy it accepts.
Their queries default to what the stack's exporters publish (scaleplane.infra.exporter_catalogs).
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import yaml

from scaleplane import images
from scaleplane.infra import backends, config
from scaleplane.infra import exporter_catalogs as catalogs
from scaleplane.scaling import specs

KINDS: dict[str, Any] = {
    "CustomResourceDefinition": k8s.apiextensions.v1.CustomResourceDefinition,
    "Namespace": k8s.core.v1.Namespace,
    "ServiceAccount": k8s.core.v1.ServiceAccount,
    "ConfigMap": k8s.core.v1.ConfigMap,
    "Service": k8s.core.v1.Service,
    "ClusterRole": k8s.rbac.v1.ClusterRole,
    "ClusterRoleBinding": k8s.rbac.v1.ClusterRoleBinding,
    "Role": k8s.rbac.v1.Role,
    "RoleBinding": k8s.rbac.v1.RoleBinding,
    "Deployment": k8s.apps.v1.Deployment,
    "PodDisruptionBudget": k8s.policy.v1.PodDisruptionBudget,
}
CLUSTER_SCOPED = {"CustomResourceDefinition", "Namespace", "ClusterRole", "ClusterRoleBinding"}
POLICY_API_VERSION = "scaleplane.io/v1alpha1"
GATEWAY_FILE = "gateway.yaml"  # the function gateway's manifests, deployed with operator.functions.enabled
GATEWAY_CONFIGMAP = "scaleplane-gateway"
GATEWAY_SETTINGS = "gateway.yaml"
OPERATOR_DEPLOYMENT = "scaleplane-operator"


def manifest_files(root: Path, manifests_dir: str, *, functions: bool = False) -> list[Path]:
    """The operator's manifest files in apply order (CRDs, RBAC, Deployment, with functions the
    gateway's), or a ConfigError."""
    folder = root / manifests_dir
    key = f"{config.NAMESPACE}:operator.manifestsDir"
    crds = sorted((folder / "crds").glob("*.yaml"))
    missing = [] if crds else [f"{manifests_dir}/crds/*.yaml"]
    names = ("rbac.yaml", "deployment.yaml", *((GATEWAY_FILE,) if functions else ()))
    missing += [f"{manifests_dir}/{name}" for name in names if not (folder / name).is_file()]
    if missing:
        raise config.ConfigError(
            [
                f"{key}: the operator's manifests are missing: {', '.join(missing)} (under {root}); "
                f"generate them, or set {config.NAMESPACE}:operator.enabled to false"
            ]
        )
    return [*crds, *(folder / name for name in names)]


def with_function_namespaces(obj: dict[str, Any], functions: config.FunctionsConfig) -> dict[str, Any]:
    """The gateway's ConfigMap with its settings' `kubernetes.namespaces` set from the stack's config."""
    if obj["kind"] != "ConfigMap" or obj["metadata"].get("name") != GATEWAY_CONFIGMAP:
        return obj
    settings = yaml.safe_load(obj["data"][GATEWAY_SETTINGS])
    settings.setdefault("kubernetes", {})["namespaces"] = list(functions.namespaces)
    return {**obj, "data": {**obj["data"], GATEWAY_SETTINGS: yaml.safe_dump(settings, sort_keys=False)}}


def with_operator_env(obj: dict[str, Any], env: dict[str, str]) -> dict[str, Any]:
    """The operator's Deployment with `env` (the database backend's settings) added to its containers."""
    if not env or obj["kind"] != "Deployment" or obj["metadata"].get("name") != OPERATOR_DEPLOYMENT:
        return obj
    spec = copy.deepcopy(obj["spec"])
    for container in spec["template"]["spec"]["containers"]:
        have = {item["name"] for item in container.get("env") or []}
        container["env"] = [
            *(container.get("env") or []),
            *({"name": k, "value": v} for k, v in env.items() if k not in have),
        ]
    return {**obj, "spec": spec}


def runtime_image_env(settings: config.OperatorConfig) -> dict[str, str]:
    """With `operator.image` (a mirror), the image source-only Functions run: the same mirror's."""
    return {"SCALEPLANE_FUNCTION_RUNTIME_IMAGE": settings.image} if settings.image else {}


def with_operator_image(obj: dict[str, Any], image: str) -> dict[str, Any]:
    """`obj` with every container that runs the operator's image (any tag: scaleplane.images.is_operator)
    running `image` instead (`operator.image`, or the default one), init containers included."""
    if "template" not in (obj.get("spec") or {}):
        return obj
    spec = copy.deepcopy(obj["spec"])
    pod = spec["template"].get("spec") or {}
    for container in [*(pod.get("initContainers") or ()), *(pod.get("containers") or ())]:
        if images.is_operator(container.get("image", "")):
            container["image"] = image
    return {**obj, "spec": spec}


def load_objects(path: Path) -> list[dict[str, Any]]:
    try:
        documents = [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
    except yaml.YAMLError as exc:
        raise config.ConfigError([f"{path}: not valid YAML ({exc})"]) from None
    for doc in documents:
        if doc.get("kind") not in KINDS:
            raise config.ConfigError(
                [
                    f"{path}: kind {doc.get('kind')!r} is not deployable here "
                    f"(known: {', '.join(sorted(KINDS))})"
                ]
            )
    return documents


def counting_primaries(
    defaults: config.PolicyDefaults, query: str, primaries: int
) -> tuple[config.PolicyDefaults, str]:
    """The read-replica policy for a target that also counts `primaries` members serving no replica
    reads (a CloudNativePG Cluster's `instances`): config speaks of replicas, the target of members.

    Floors and ceilings move up by the primaries (minReplicas 1 is one read replica, not a lone primary
    and an empty `-ro` Service), and the query gains one target's worth per primary: AverageValue asks
    for ceil(value / target) members, so ceil(load / target) replicas plus the primary.
    """
    if not primaries:
        return defaults, query
    shifted = defaults.model_copy(
        update={
            "min_replicas": defaults.min_replicas + primaries,
            "max_replicas": defaults.max_replicas + primaries,
        }
    )
    share = float(primaries * defaults.target_value)
    return shifted, f"({query}) + {int(share) if share.is_integer() else share!r}"  # never 1.23457e+06


def _snake(key: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower()


class ScalingOperator(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        platform: config.PlatformConfig,
        cluster: backends.ClusterHandle,
        database: backends.DatabaseHandle,
        project_root: Path,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("scaleplane:operator:ScalingOperator", name, None, opts)
        settings = platform.operator
        files = manifest_files(project_root, settings.manifests_dir, functions=settings.functions.enabled)
        env = {**database.operator_env, **runtime_image_env(settings)}
        objects = [
            with_operator_image(
                with_operator_env(with_function_namespaces(obj, settings.functions), env),
                settings.image_or_default,
            )
            for path in files
            for obj in load_objects(path)
        ]
        created: dict[str, list[pulumi.Resource]] = {"crds": [], "rest": []}
        # The manifests name their namespace but need not create it: create the ones nobody else does.
        declared = {obj["metadata"]["name"] for obj in objects if obj["kind"] == "Namespace"}
        used = {
            (obj.get("metadata") or {}).get("namespace") or settings.namespace
            for obj in objects
            if obj["kind"] not in CLUSTER_SCOPED
        }
        for namespace in sorted(used - declared - {"default", "kube-system"}):
            created["rest"].append(
                self._deploy(
                    name,
                    {"kind": "Namespace", "metadata": {"name": namespace}},
                    namespace,
                    cluster.provider,
                    [],
                )
            )
        for obj in objects:
            after = [] if obj["kind"] == "CustomResourceDefinition" else created["crds"] + created["rest"]
            resource = self._deploy(name, obj, settings.namespace, cluster.provider, after)
            created["crds" if obj["kind"] == "CustomResourceDefinition" else "rest"].append(resource)
        policies = {
            "workers": (
                settings.workers.namespace,
                {"apiVersion": "apps/v1", "kind": "Deployment", "name": settings.workers.name},
                settings.workers.policy,
                settings.workers.policy.query or catalogs.workers_query(platform),
                "AverageValue",
            ),
            "read-replicas": (
                platform.database.namespace if platform.target == "kubernetes" else settings.namespace,
                database.replica_target,
                *counting_primaries(
                    settings.read_replicas,
                    settings.read_replicas.query or catalogs.read_replicas_query(platform),
                    database.counted_primaries,
                ),
                catalogs.read_replicas_target_type(platform),
            ),
        }
        self.policies = [
            self._policy(
                name,
                role,
                namespace,
                target,
                defaults,
                query,
                target_type,
                cluster.provider,
                created["crds"] + database.depends_on,
            )
            for role, (namespace, target, defaults, query, target_type) in policies.items()
        ]
        self.register_outputs({"policies": [f"{name}-{role}" for role in policies]})

    def _deploy(
        self,
        name: str,
        obj: dict[str, Any],
        namespace: str,
        provider: k8s.Provider,
        after: list[pulumi.Resource],
    ) -> pulumi.Resource:
        kind = obj["kind"]
        metadata = dict(obj.get("metadata") or {})
        if kind not in CLUSTER_SCOPED:
            metadata.setdefault("namespace", namespace)
        args = {
            _snake(key): value for key, value in obj.items() if key not in ("apiVersion", "kind", "metadata")
        }
        resource_name = f"{name}-{kind.lower()}-{metadata.get('name', 'unnamed')}"
        resource: pulumi.Resource = KINDS[kind](
            resource_name,
            metadata=metadata,
            opts=backends.child(self, provider=provider, depends_on=after),
            **args,
        )
        return resource

    def _policy(
        self,
        name: str,
        role: str,
        namespace: str,
        target: dict[str, str],
        defaults: config.PolicyDefaults,
        query: str,
        target_type: str,
        provider: k8s.Provider,
        after: list[pulumi.Resource],
    ) -> k8s.apiextensions.CustomResource:
        spec = specs.parse_policy(
            {
                "targetRef": target,
                "minReplicas": defaults.min_replicas,
                "maxReplicas": defaults.max_replicas,
                "metrics": [
                    {
                        "name": role.replace("-", "_"),
                        "query": query,
                        "target": {"type": target_type, "value": defaults.target_value},
                    }
                ],
            }
        )
        return k8s.apiextensions.CustomResource(
            f"{name}-{role}",
            api_version=POLICY_API_VERSION,
            kind="ScalingPolicy",
            metadata={"name": role, "namespace": namespace},
            spec=spec.model_dump(by_alias=True, mode="json", exclude_none=True),
            opts=backends.child(self, provider=provider, depends_on=after),
        )
