"""The Kubernetes backend: any cluster reached by a kubeconfig; PostgreSQL through CloudNativePG and
Redis through its Helm chart, inside that cluster.

Rule: only Kubernetes objects and Helm releases, all through the cluster's own provider; nothing here
assumes a cloud.
"""

from __future__ import annotations

from typing import Any

import pulumi

from scaleplane.infra import backends, config
from scaleplane.infra.kubernetes import cloudnativepg, redis
from scaleplane.infra.kubernetes import cluster as existing


@backends.register("kubernetes")
class KubernetesBackend:
    def __init__(self) -> None:
        self.namespaces: dict[str, Any] = {}  # one Namespace resource per namespace, shared by components

    def build_cluster(
        self, parent: pulumi.ComponentResource, name: str, platform: config.PlatformConfig
    ) -> backends.ClusterHandle:
        return existing.build(parent, name, platform)

    def build_database(
        self,
        parent: pulumi.ComponentResource,
        name: str,
        platform: config.PlatformConfig,
        cluster: backends.ClusterHandle,
    ) -> backends.DatabaseHandle:
        return cloudnativepg.build(parent, name, platform, cluster, self.namespaces)

    def build_cache(
        self,
        parent: pulumi.ComponentResource,
        name: str,
        platform: config.PlatformConfig,
        cluster: backends.ClusterHandle,
    ) -> backends.CacheHandle:
        return redis.build(parent, name, platform, cluster, self.namespaces)
