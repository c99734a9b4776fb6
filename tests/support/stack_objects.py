"""A planned stack's objects in kmock as a cluster would hold them, and the pods its controllers would run.

`apply` stores every rendered object (scaleplane.infra.manifests) as the API server does on
`kubectl apply`, a CRD making its kind served. The pods are what no manifest holds: a Deployment's
(from its template) and CloudNativePG's instance pods (the labels its operator sets), each with its
named ports where a real process on 127.0.0.1 listens, so the PodMonitors' selection
(tests/support/pod_monitors.py) meets them as in a cluster. `operator_settings` reads the operator
Deployment's container the way the kubelet hands it over (args, env values and fieldRefs).
Used by tests/e2e/test_deployed_loop.py.
"""

from __future__ import annotations

from typing import Any

from tests.support import endpoints, operating

# Plurals of the built-in kinds the stack applies (a CRD names its own).
PLURALS = {
    "Namespace": "namespaces",
    "ServiceAccount": "serviceaccounts",
    "ConfigMap": "configmaps",
    "Secret": "secrets",
    "Service": "services",
    "ClusterRole": "clusterroles",
    "ClusterRoleBinding": "clusterrolebindings",
    "Role": "roles",
    "RoleBinding": "rolebindings",
    "Deployment": "deployments",
    "PodDisruptionBudget": "poddisruptionbudgets",
    "CustomResourceDefinition": "customresourcedefinitions",
    # CRDs of the Helm charts (kube-prometheus-stack, CloudNativePG), not rendered here
    "PodMonitor": "podmonitors",
    "PrometheusRule": "prometheusrules",
    "Cluster": "clusters",
}
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition"}


def resource_of(obj: dict[str, Any], crds: dict[str, str]) -> str:
    kind = obj["kind"]
    return f"{obj['apiVersion']}/{crds.get(kind) or PLURALS[kind]}"


def apply(cluster: Any, objects: list[dict[str, Any]]) -> None:
    """Store each object as the API server would on `kubectl apply`; a CRD makes its kind served."""
    crds: dict[str, str] = {}
    for obj in objects:
        if obj["kind"] == "CustomResourceDefinition":
            spec = obj["spec"]
            names, version = spec["names"], spec["versions"][0]
            crds[names["kind"]] = names["plural"]
            cluster.resources[f"{spec['group']}/{version['name']}/{names['plural']}"] = {
                "namespaced": spec["scope"] == "Namespaced",
                "verbs": operating.ALL_VERBS,
                "kind": names["kind"],
                "singular": names["singular"],
                "shortnames": names.get("shortNames", []),
                "subresources": sorted(version.get("subresources") or {}),
            }
    for obj in objects:
        body = {**obj, "metadata": dict(obj["metadata"])}
        if obj["kind"] not in CLUSTER_SCOPED:
            body["metadata"].setdefault("namespace", "default")
        cluster.put_object(resource_of(obj, crds), body)


def instance_pods(cluster_obj: dict[str, Any], ports: list[tuple[int, int]]) -> list[dict[str, Any]]:
    """The pods CloudNativePG runs for a Cluster (instance 1 the primary), with the labels its operator
    sets; their `postgresql` and `metrics` ports are the real server's and exporter's here."""
    name, namespace = cluster_obj["metadata"]["name"], cluster_obj["metadata"]["namespace"]
    pods = []
    for index, (pg_port, metrics_port) in enumerate(ports, start=1):
        role = "primary" if index == 1 else "replica"
        labels = {
            "cnpg.io/cluster": name,
            "cnpg.io/instanceName": f"{name}-{index}",
            "cnpg.io/instanceRole": role,
            "cnpg.io/podRole": "instance",
            "role": role,
        }
        ports_ = [
            {"name": "postgresql", "containerPort": pg_port},
            {"name": "metrics", "containerPort": metrics_port},
        ]
        pods.append(pod(f"{name}-{index}", namespace, labels, [{"name": "postgres", "ports": ports_}]))
    return pods


def pod(
    name: str, namespace: str, labels: dict[str, str], containers: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": {"containers": containers},
        "status": {"podIP": "127.0.0.1", "phase": "Running"},
    }


def pod_of(deployment: dict[str, Any], ports: dict[str, int]) -> dict[str, Any]:
    """A pod of a Deployment (its template's labels and port names), with the named ports where the
    real process listens (the others on free ports)."""
    template = deployment["spec"]["template"]
    containers = [
        {
            "name": c["name"],
            "ports": [
                {**p, "containerPort": ports.get(p["name"]) or endpoints.free_port()}
                for p in c.get("ports") or ()
            ],
        }
        for c in template["spec"]["containers"]
    ]
    name = f"{deployment['metadata']['name']}-0"
    return pod(name, deployment["metadata"]["namespace"], template["metadata"]["labels"], containers)


def operator_settings(deployment: dict[str, Any], pod_name: str) -> tuple[bool, dict[str, str]]:
    """(cluster-wide?, environment) as the Deployment's container gets them."""
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    args = container["args"]
    assert args[:2] == ["operator", "run"] and "--standalone" in args
    fields = {"metadata.name": pod_name, "metadata.namespace": deployment["metadata"]["namespace"]}
    env = {}
    for item in container["env"]:
        if "value" in item:
            env[item["name"]] = str(item["value"])
        else:
            env[item["name"]] = fields[item["valueFrom"]["fieldRef"]["fieldPath"]]
    return "--all-namespaces" in args, env


def container_env(deployment: dict[str, Any]) -> dict[str, str]:
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    return {item["name"]: str(item["value"]) for item in container.get("env") or () if "value" in item}
