"""The AWS backend: EKS in its own three-AZ VPC, RDS or Aurora PostgreSQL with readers, ElastiCache Redis.

Rule: plain pulumi_aws resources only (no remote components), so every child is visible to the
offline plan and to the guardrails.
"""

from __future__ import annotations

import pulumi

from scaleplane.infra import backends, config
from scaleplane.infra.aws import aurora, eks, elasticache, rds


@backends.register("aws")
class AwsBackend:
    def build_cluster(
        self, parent: pulumi.ComponentResource, name: str, platform: config.PlatformConfig
    ) -> backends.ClusterHandle:
        return eks.build(parent, name, platform)

    def build_database(
        self,
        parent: pulumi.ComponentResource,
        name: str,
        platform: config.PlatformConfig,
        cluster: backends.ClusterHandle,
    ) -> backends.DatabaseHandle:
        if platform.database.engine == aurora.ENGINE:
            return aurora.build(parent, name, platform, cluster)
        return rds.build(parent, name, platform, cluster)

    def build_cache(
        self,
        parent: pulumi.ComponentResource,
        name: str,
        platform: config.PlatformConfig,
        cluster: backends.ClusterHandle,
    ) -> backends.CacheHandle:
        return elasticache.build(parent, name, platform, cluster)
