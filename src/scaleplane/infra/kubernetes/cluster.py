"""An existing Kubernetes cluster (kind, k3d, on-prem, any managed one) reached through a kubeconfig.

Nothing is created in the cluster here; the provider is what every other Kubernetes object of the
platform goes through, so one stack never touches a cluster it was not pointed at.
"""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from scaleplane.infra import backends, config

AMBIENT = "(ambient: $KUBECONFIG or ~/.kube/config)"


def build(parent: pulumi.Resource, name: str, platform: config.PlatformConfig) -> backends.ClusterHandle:
    settings = platform.cluster
    provider_args: dict[str, str] = {}
    # The provider takes either a path or the file's contents in the same argument.
    if settings.kubeconfig:
        provider_args["kubeconfig"] = settings.kubeconfig
    if settings.context:
        provider_args["context"] = settings.context
    provider = k8s.Provider(f"{name}-k8s", opts=backends.child(parent), **provider_args)
    kubeconfig = pulumi.Output.secret(settings.kubeconfig or AMBIENT)
    return backends.ClusterHandle(
        name=settings.context or name,
        kubeconfig=kubeconfig,
        provider=provider,
        endpoint=settings.context or AMBIENT,
    )


def namespace(
    parent: pulumi.Resource,
    name: str,
    namespace_name: str,
    provider: k8s.Provider,
    labels: dict[str, str],
    known: dict[str, k8s.core.v1.Namespace],
) -> k8s.core.v1.Namespace | None:
    """The namespace, created once per stack (`known`) unless every cluster already has it.

    The database and the cache may share one; two Pulumi resources for one namespace would collide.
    """
    if namespace_name in ("default", "kube-system"):
        return None
    if namespace_name not in known:
        known[namespace_name] = k8s.core.v1.Namespace(
            f"{name}-ns",
            metadata={"name": namespace_name, "labels": labels},
            opts=backends.child(parent, provider=provider),
        )
    return known[namespace_name]


def labels(platform: config.PlatformConfig) -> dict[str, str]:
    """The required tags as Kubernetes labels (label values allow no spaces or slashes)."""
    return {key: value.replace(" ", "-").replace("/", "-") for key, value in platform.resource_tags.items()}
