"""The one small seam every scale target sits behind: read current/ready replicas, request N.

Implementations: Kubernetes `/scale` subresource (Deployment, StatefulSet, CloudNativePG Cluster, any
custom resource with one), RDS/Aurora read replicas (boto3), and the local platform's process pools.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class ReplicaCount:
    current: int  # asked for (spec.replicas)
    ready: int  # serving now (status.readyReplicas; a replica still starting is not ready)
    selector: str | None = None  # the pods' label selector (a Scale's status.selector), when it has pods


class TargetError(Exception):
    """A target could not be read or scaled. `retryable` tells the loop whether to back off and retry."""

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


class ScaleTarget(Protocol):
    async def read(self) -> ReplicaCount: ...

    async def scale(self, replicas: int) -> None:
        """Ask for `replicas`; returns once the request is accepted (not when replicas are ready)."""
        ...
