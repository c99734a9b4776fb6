"""The seam between the cloud-agnostic components and one module per target (AWS, Kubernetes).

A backend builds the children of the `Cluster`, `Database` and `Cache` components (always with
`parent=` the component, names prefixed with the component's name) and hands back plain handles:
the outputs the rest of the platform needs, whatever the target.

Adding a target: a module with a class that satisfies `Backend`, decorated with `@register("name")`,
imported by `load()`; then the name becomes a valid `scaleplane:target`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import pulumi
import pulumi_kubernetes as k8s

from scaleplane.infra import config

BACKEND_MODULES = ("scaleplane.infra.aws", "scaleplane.infra.kubernetes")


@dataclass(frozen=True)
class ClusterHandle:
    name: pulumi.Input[str]
    kubeconfig: pulumi.Output[str]  # a secret
    provider: k8s.Provider  # every Kubernetes object of the platform goes through this provider
    endpoint: pulumi.Input[str]
    details: Any = None  # what the same backend needs again later (on AWS: the VPC and its subnets)


@dataclass(frozen=True)
class DatabaseHandle:
    writer_endpoint: pulumi.Input[str]
    read_endpoints: list[pulumi.Input[str]]  # one per read replica, or the read-only service
    port: int
    # What a ScalingPolicy for the read replicas points at (ScalingPolicy.spec.targetRef).
    replica_target: dict[str, str]
    depends_on: list[pulumi.Resource] = field(default_factory=list)
    # Members the replica target counts that serve no replica reads: CloudNativePG's Cluster scales
    # `instances`, the primary included (1); RDS counts only the read replicas (0).
    counted_primaries: int = 0
    # Settings the operator needs to scale these replicas (on AWS: SCALEPLANE_AWS_REGION), added to
    # its Deployment's container env by the ScalingOperator component.
    operator_env: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CacheHandle:
    primary_endpoint: pulumi.Input[str]
    reader_endpoint: pulumi.Input[str]
    port: int
    auth_token: pulumi.Output[str] | None  # a secret, or None when AUTH is off
    ca_secret: str | None = None  # a Secret beside the cache with its TLS CA (ca.crt), when self-signed
    auth_secret: tuple[str, str] | None = None  # (name, key) of a Secret beside the cache with the token


class Backend(Protocol):
    def build_cluster(
        self, parent: pulumi.ComponentResource, name: str, platform: config.PlatformConfig
    ) -> ClusterHandle: ...

    def build_database(
        self,
        parent: pulumi.ComponentResource,
        name: str,
        platform: config.PlatformConfig,
        cluster: ClusterHandle,
    ) -> DatabaseHandle: ...

    def build_cache(
        self,
        parent: pulumi.ComponentResource,
        name: str,
        platform: config.PlatformConfig,
        cluster: ClusterHandle,
    ) -> CacheHandle: ...


_REGISTRY: dict[str, Callable[[], Backend]] = {}


def register(name: str) -> Callable[[Any], Any]:
    def decorate(factory: Any) -> Any:
        _REGISTRY[name] = factory
        return factory

    return decorate


def load() -> None:
    for module in BACKEND_MODULES:
        importlib.import_module(module)


def get(name: str) -> Backend:
    load()
    if name not in _REGISTRY:
        known = ", ".join(sorted(_REGISTRY))
        raise config.ConfigError([f"{config.NAMESPACE}:target: no backend named {name!r} (known: {known})"])
    return _REGISTRY[name]()


def child(parent: pulumi.Resource, **extra: Any) -> pulumi.ResourceOptions:
    """Options of every child: parented to its component, plus whatever the caller adds."""
    return pulumi.ResourceOptions(parent=parent).merge(pulumi.ResourceOptions(**extra))
