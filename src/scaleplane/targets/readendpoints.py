"""The Kubernetes Service apps read RDS replicas through, kept equal to the replicas that are ready.

RDS has no reader endpoint (Aurora has one, and needs none of this). So for the replicas of an RDS
source the operator keeps, in the policy's namespace:

    Service        <source>-read     selector-less ClusterIP, port 5432
    EndpointSlice  <source>-read     addressType IPv4, one endpoint per READY replica (available, lag
                                     under the bound: targets.rds), labelled with the Service's name

so `<source>-read.<namespace>.svc:5432` reaches only ready replicas, and kube-proxy spreads new
connections over them. Why a selector-less Service and an EndpointSlice, not ExternalName: an
ExternalName is one DNS alias, so it can name one replica only, and it cannot leave out a lagging
one without pointing at nothing. An EndpointSlice holds IP addresses, so the operator resolves each
ready replica's endpoint name every tick (RDS moves that name to a new IP when it replaces a host;
the next tick follows). An endpoint name that does not resolve is left out (logged), never guessed.

TLS: the replicas' certificates name their own RDS endpoints, not the Service: apps connect with
`sslmode=require` (encrypted, hostname not verified) through the Service, or verify-full to one
replica's own endpoint (docs/operator.md).

The slice is written only when the set changes. A failed write is logged and tried again next tick:
the Service is how reads find replicas, never a reason to stop scaling them.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Callable
from typing import Any

from scaleplane.kube import clients

log = logging.getLogger(__name__)
MANAGED_BY = "scaleplane.io"
SERVICE_NAME_LABEL = "kubernetes.io/service-name"
Resolve = Callable[[str], list[str]]


def resolve_ipv4(host: str) -> list[str]:
    """The IPv4 addresses `host` resolves to now (blocking); [] when it does not resolve."""
    try:
        infos = socket.getaddrinfo(host, None, family=socket.AF_INET, type=socket.SOCK_STREAM)
    except OSError:
        return []
    return sorted({str(info[4][0]) for info in infos})


def service_name(source_id: str) -> str:
    return f"{source_id}-read"[:63].rstrip("-")


class ReadService:
    """The read Service of one RDS source in `namespace`, published through `api` (a KubeClient)."""

    def __init__(
        self, api: clients.KubeClient, namespace: str, source_id: str, *, resolve: Resolve | None = None
    ) -> None:
        self.api = api
        self.namespace = namespace
        self.name = service_name(source_id)
        self.resolve = resolve
        self._published: tuple[str, ...] | None = None
        self._service_made = False

    async def publish(self, ready: list[dict[str, Any]]) -> None:
        """Keep the EndpointSlice to the endpoints of `ready` (describe_db_instances entries)."""
        hosts = [(r["DBInstanceIdentifier"], (r.get("Endpoint") or {}).get("Address")) for r in ready]
        addresses: set[str] = set()
        for instance, host in hosts:
            found = await asyncio.to_thread(self.resolve or resolve_ipv4, host) if host else []
            if not found:
                log.warning(
                    "read Service %s: replica %s (%s) does not resolve; left out", self.name, instance, host
                )
            addresses.update(found)
        wanted = tuple(sorted(addresses))
        if wanted == self._published:
            return
        try:
            await self._ensure_service()
            await self._write_slice(wanted)
        except clients.ApiError as exc:
            log.warning(
                "read Service %s/%s not updated (next tick tries again): %s", self.namespace, self.name, exc
            )
            return
        self._published = wanted

    async def _ensure_service(self) -> None:
        if self._service_made:
            return
        body = {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": self.name, "namespace": self.namespace, "labels": self._labels()},
            "spec": {"ports": [{"name": "postgresql", "port": 5432, "protocol": "TCP", "targetPort": 5432}]},
        }
        await self._create_or_keep(f"/api/v1/namespaces/{self.namespace}/services", body)
        self._service_made = True

    async def _write_slice(self, addresses: tuple[str, ...]) -> None:
        base = f"/apis/discovery.k8s.io/v1/namespaces/{self.namespace}/endpointslices"
        body = {
            "apiVersion": "discovery.k8s.io/v1",
            "kind": "EndpointSlice",
            "metadata": {
                "name": self.name,
                "namespace": self.namespace,
                "labels": {**self._labels(), SERVICE_NAME_LABEL: self.name},
            },
            "addressType": "IPv4",
            "ports": [{"name": "postgresql", "port": 5432, "protocol": "TCP"}],
            "endpoints": [{"addresses": [ip], "conditions": {"ready": True}} for ip in addresses],
        }
        if not await self._create_or_keep(base, body):
            await self.api.patch(f"{base}/{self.name}", {"endpoints": body["endpoints"]})

    async def _create_or_keep(self, path: str, body: dict[str, Any]) -> bool:
        """Create `body`; False when it exists already (409)."""
        try:
            await self.api.create(path, body)
        except clients.ApiError as exc:
            if exc.status != 409:
                raise
            return False
        return True

    def _labels(self) -> dict[str, str]:
        return {
            "endpointslice.kubernetes.io/managed-by": MANAGED_BY,
            "app.kubernetes.io/managed-by": "scaleplane",
        }
