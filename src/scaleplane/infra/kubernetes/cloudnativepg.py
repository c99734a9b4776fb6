"""PostgreSQL on Kubernetes: the CloudNativePG operator (Helm) and one `Cluster` of 1 + N instances.

CloudNativePG runs one primary and `instances - 1` streaming replicas and serves them through three
Services: `<name>-rw` (the primary), `<name>-ro` (replicas only) and `<name>-r` (any instance). The
read-only endpoint exported is `<name>-ro`. Instances are spread over zones by pod anti-affinity on
`topology.kubernetes.io/zone`: required in production (a zone never holds two), preferred elsewhere
(a one-node kind cluster still schedules them). The operator's own PodDisruptionBudgets stay on.
"""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from scaleplane.infra import backends, config
from scaleplane.infra.kubernetes import cluster as clusters

PORT = 5432
CHART_REPOSITORY = "https://cloudnative-pg.github.io/charts"
API_VERSION = "postgresql.cnpg.io/v1"


def build(
    parent: pulumi.Resource,
    name: str,
    platform: config.PlatformConfig,
    cluster: backends.ClusterHandle,
    namespaces: dict[str, k8s.core.v1.Namespace],
) -> backends.DatabaseHandle:
    settings = platform.database
    labels = clusters.labels(platform)
    operator = k8s.helm.v3.Release(
        f"{name}-cnpg",
        name="cnpg",
        chart="cloudnative-pg",
        version=settings.operator_chart_version,
        repository_opts={"repo": CHART_REPOSITORY},
        namespace="cnpg-system",
        create_namespace=True,
        values={"monitoring": {"podMonitorEnabled": platform.monitoring.enabled}},
        opts=backends.child(parent, provider=cluster.provider),
    )
    namespace = clusters.namespace(parent, name, settings.namespace, cluster.provider, labels, namespaces)
    depends: list[pulumi.Resource] = [operator] + ([namespace] if namespace else [])
    postgres = k8s.apiextensions.CustomResource(
        f"{name}-postgres",
        api_version=API_VERSION,
        kind="Cluster",
        metadata={"name": settings.name, "namespace": settings.namespace, "labels": labels},
        spec={
            "instances": 1 + settings.read_replicas,
            "imageName": f"ghcr.io/cloudnative-pg/postgresql:{settings.engine_version}",
            "primaryUpdateStrategy": "unsupervised",
            "enablePDB": True,
            "enableSuperuserAccess": False,
            "storage": {"size": settings.storage_size},
            "postgresql": {
                "parameters": {
                    "hot_standby_feedback": "on",
                    "max_standby_streaming_delay": "30s",
                    "max_standby_archive_delay": "30s",
                    "log_min_duration_statement": "1000",
                }
            },
            "affinity": {
                "enablePodAntiAffinity": True,
                "topologyKey": "topology.kubernetes.io/zone",
                "podAntiAffinityType": "required" if platform.production else "preferred",
            },
            "resources": {"requests": {"cpu": "250m", "memory": "512Mi"}},
            # Our own PodMonitor (scaleplane.infra.exporters) adds the `role` label the policies select on;
            # CloudNativePG deprecates its generated one (enablePodMonitor) in 1.26.
            "monitoring": {"enablePodMonitor": False},
        },
        opts=backends.child(parent, provider=cluster.provider, depends_on=depends),
    )
    service = f"{settings.name}-{{role}}.{settings.namespace}.svc.cluster.local"
    return backends.DatabaseHandle(
        writer_endpoint=service.format(role="rw"),
        read_endpoints=[service.format(role="ro")],
        port=PORT,
        replica_target={"apiVersion": API_VERSION, "kind": "Cluster", "name": settings.name},
        depends_on=[postgres],
        counted_primaries=1,  # /scale of a Cluster is `instances`: 1 primary + the replicas
    )
