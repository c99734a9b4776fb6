"""Resolve a policy's `targetRef` to a ScaleTarget, always inside the policy's own namespace.

This is the one place a target's namespace is chosen, and it is chosen from the policy, never from the
spec: `TargetRef` has no namespace field (the spec model rejects one), and the Kubernetes target refuses
names that are not plain object names, so a policy in `team-a` cannot reach `team-b/web`. Targets that
live outside Kubernetes enforce the same rule their own way (RDS: the source DB must carry the tag
`scaleplane.io/namespace=<the policy's namespace>`).

Factories are picked by the targetRef's API group and kind: an exact (group, kind) entry first, then a
(group, any kind) entry, then the default (the Kubernetes /scale target, which fits every kind with a
scale subresource). The local platform registers its process pools the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from scaleplane.scaling import specs
from scaleplane.targets import protocol

Factory = Callable[[str, specs.TargetRef], protocol.ScaleTarget]
ANY_KIND = "*"


class TargetRegistry:
    def __init__(self, default: Factory | None = None) -> None:
        self._factories: dict[tuple[str, str], Factory] = {}
        self._default = default

    def register(self, group: str, kind: str, factory: Factory) -> None:
        """Serve targetRefs of `group` (the apiVersion without its version) and `kind` (or ANY_KIND)."""
        self._factories[(group, kind)] = factory

    def resolve(self, namespace: str, ref: specs.TargetRef) -> protocol.ScaleTarget:
        """The target for `ref` in `namespace`; TargetError (not retryable) when none fits."""
        if not namespace:
            raise protocol.TargetError(
                "a policy without a namespace cannot resolve its target", retryable=False
            )
        group = ref.api_version.rpartition("/")[0]
        factory = (
            self._factories.get((group, ref.kind)) or self._factories.get((group, ANY_KIND)) or self._default
        )
        if factory is None:
            known = ", ".join(f"{k} ({g})" for g, k in sorted(self._factories)) or "none"
            raise protocol.TargetError(
                f"targetRef: no target for kind {ref.kind!r} of apiVersion {ref.api_version!r}; "
                f"known: {known}",
                retryable=False,
            )
        return factory(namespace, ref)


# RDS read replicas are named two ways: as AWS Controllers for Kubernetes names the source instance
# (rds.services.k8s.aws DBInstance), and as scaleplane's own infra stacks emit it (RDSReadReplicas).
# Aurora readers likewise: ACK's DBCluster, or the stacks' AuroraReaders; `name` is the cluster.
RDS_KINDS = (("rds.services.k8s.aws", "DBInstance"), ("scaleplane.io", "RDSReadReplicas"))
AURORA_KINDS = (("rds.services.k8s.aws", "DBCluster"), ("scaleplane.io", "AuroraReaders"))


def for_cluster(client: Any, *, aws: Any | None = None, fresh_for: float = 2.0) -> TargetRegistry:
    """The operator's registry: every kind through /scale, plus RDS read replicas and Aurora readers.

    client:     the process's `kube.clients.KubeClient`.
    aws:        a `targets.awscalls.AwsClients` (its boto3 clients are built on first use); without
                it an RDS or Aurora targetRef is refused with a clear error.
    fresh_for:  how long one LIST of a namespace and kind answers reads (keep it under the tick).
    """
    from scaleplane.targets import aurora, kubernetes, rds, readendpoints

    listings = kubernetes.Listings(client, fresh_for=fresh_for)

    def kube_target(namespace: str, ref: specs.TargetRef) -> protocol.ScaleTarget:
        return kubernetes.KubernetesScaleTarget(client, namespace, ref, listings=listings)

    registry = TargetRegistry(default=kube_target)

    def aws_target(namespace: str, ref: specs.TargetRef) -> protocol.ScaleTarget:
        if aws is None:
            raise protocol.TargetError(
                f"targetRef: {ref.kind} {ref.name!r} needs AWS clients; this registry was built without them",
                retryable=False,
            )
        if (ref.api_version.rpartition("/")[0], ref.kind) in AURORA_KINDS:
            return aurora.AuroraReaders(aws, namespace, ref.name)
        reads = readendpoints.ReadService(client, namespace, ref.name)
        return rds.RdsReadReplicas(aws, namespace, ref.name, publish=reads.publish)

    for group, kind in RDS_KINDS + AURORA_KINDS:
        registry.register(group, kind, aws_target)
    return registry
