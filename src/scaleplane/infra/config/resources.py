"""What the stack stands up for the application: the cluster (`scaleplane:cluster`) and the two data
stores (`scaleplane:database`, `scaleplane:cache`), on AWS or in a Kubernetes cluster you already run.

Each model holds the keys of both targets; a comment marks the keys only one of them reads. Settings
left at `None` ("auto") follow the environment (`platforms.PlatformConfig.production`).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from scaleplane.infra.config import fields

LogType = Literal["api", "audit", "authenticator", "controllerManager", "scheduler"]
CONTROL_PLANE_LOG_TYPES: tuple[LogType, ...] = (
    "api",
    "audit",
    "authenticator",
    "controllerManager",
    "scheduler",
)


class NodeGroupConfig(fields.ConfigModel):
    name: Annotated[str, Field(min_length=1, max_length=38, pattern=r"^[a-z0-9-]+$")] = "general"
    instance_types: Annotated[tuple[str, ...], Field(min_length=1)] = ("m6i.large",)
    min_size: Annotated[int, Field(ge=1)] = 2
    desired_size: Annotated[int, Field(ge=1)] = 3
    max_size: Annotated[int, Field(ge=1)] = 6
    disk_size_gib: Annotated[int, Field(ge=20)] = 50

    @model_validator(mode="after")
    def _sizes_ordered(self) -> NodeGroupConfig:
        if not self.min_size <= self.desired_size <= self.max_size:
            raise ValueError(
                f"needs minSize <= desiredSize <= maxSize, was {self.min_size}, "
                f"{self.desired_size}, {self.max_size}"
            )
        return self


class ClusterConfig(fields.ConfigModel):
    # AWS (EKS)
    version: str = "1.31"
    vpc_cidr: str = "10.0.0.0/16"
    availability_zones: tuple[str, ...] = ()  # empty: the region's first three available zones
    endpoint_public_access: bool = False
    public_access_cidrs: tuple[str, ...] = ()
    log_types: tuple[LogType, ...] = CONTROL_PLANE_LOG_TYPES
    log_retention_days: Annotated[int, Field(ge=1)] = 90
    node_groups: Annotated[tuple[NodeGroupConfig, ...], Field(min_length=1)] = (NodeGroupConfig(),)
    # Kubernetes (an existing cluster)
    kubeconfig: str = ""  # a path or the kubeconfig itself; empty: $KUBECONFIG or ~/.kube/config
    context: str = ""

    @model_validator(mode="after")
    def _public_endpoint_needs_cidrs(self) -> ClusterConfig:
        if self.endpoint_public_access and not self.public_access_cidrs:
            raise ValueError("endpointPublicAccess needs publicAccessCidrs (never 0.0.0.0/0 by default)")
        return self


class DatabaseConfig(fields.ConfigModel):
    name: Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[a-z][a-z0-9-]*$")] = "app"
    engine_version: str = "16.4"
    # AWS: "postgres" (RDS, read replicas of a primary) or "aurora-postgresql" (a cluster and readers)
    engine: Literal["postgres", "aurora-postgresql"] = "postgres"
    read_replicas: Annotated[int, Field(ge=0, le=15)] = 1
    instance_class: str = "db.t4g.medium"
    allocated_storage_gib: Annotated[int, Field(ge=20)] = 50
    max_allocated_storage_gib: Annotated[int, Field(ge=20)] = 200
    storage_encrypted: bool = True
    publicly_accessible: bool = False
    backup_retention_days: Annotated[int, Field(ge=0, le=35)] = 7
    multi_az: bool | None = None  # None: on in production
    deletion_protection: bool | None = None  # None: on in production
    storage_size: fields.Quantity = "20Gi"  # Kubernetes: each CloudNativePG instance's volume
    operator_chart_version: str = "0.23.0"  # Kubernetes: the cloudnative-pg Helm chart
    namespace: str = "data"  # Kubernetes


class CacheConfig(fields.ConfigModel):
    node_type: str = "cache.t4g.small"
    engine_version: str = "7.1"
    replicas: Annotated[int, Field(ge=0, le=5)] = 1
    at_rest_encryption: bool = True
    transit_encryption: bool = True
    auth: bool = True
    automatic_failover: bool = True
    auto_minor_version_upgrade: bool = True
    snapshot_retention_days: Annotated[int, Field(ge=0, le=35)] = 7
    chart_version: str = "20.6.0"  # Kubernetes: the bitnami redis Helm chart
    namespace: str = "data"  # Kubernetes

    @model_validator(mode="after")
    def _failover_needs_a_replica(self) -> CacheConfig:
        if self.automatic_failover and self.replicas < 1:
            raise ValueError("automaticFailover needs replicas >= 1 (nothing to fail over to)")
        return self
