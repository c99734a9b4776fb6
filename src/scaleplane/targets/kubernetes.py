"""A ScaleTarget over the Kubernetes `/scale` subresource: Deployment, StatefulSet, CloudNativePG Cluster
(`postgresql.cnpg.io/v1` `clusters`, whose /scale maps to `spec.instances`) and any custom resource that
declares a scale subresource.

All calls go through the process's one `kube.clients.KubeClient` (async, credentials kept fresh). The
resource's plural comes from API discovery (cached by the client), never from English rules.

Reading, batched: for kinds whose replica fields are known (Deployment, StatefulSet, ReplicaSet:
`spec.replicas`/`status.readyReplicas`; CloudNativePG Cluster: `spec.instances`/`status.readyInstances`)
every target of one namespace and kind shares ONE LIST per tick (`Listings`): reads that arrive while a
LIST is in flight, or within `fresh_for` seconds after it, are answered from it. A /scale write puts
its new count into the listing, so a later read in the same tick sees it. Any other kind is read
one by one: GET /scale for the asked-for count (a CRD maps it from its own field) and the object for
readiness, if it reports any.

A read also gives the pods' label selector (Resource metrics pick their pods by it): a listed kind's
`spec.selector` in its string form, or the Scale's `status.selector` (what the HPA reads); a kind
with neither (a CloudNativePG Cluster) has none, and a Resource metric on it fails saying so.

Scaling: PATCH /scale with a merge patch `{"spec": {"replicas": N}}` (a PUT would need the current
resourceVersion, and a conflict on it buys nothing here).

Errors: 409, 429, 5xx, timeouts and refused connections are retryable; 404 (no such object),
401/403 (RBAC), 422 (rejected value) and other 4xx are not.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from scaleplane.kube import clients
from scaleplane.scaling import specs
from scaleplane.targets import protocol

DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")
READY_FIELDS = ("readyReplicas", "readyInstances")
# (group, kind) -> (spec field /scale maps to, status field of ready replicas): these can be LISTed.
LISTABLE = {
    ("apps", "Deployment"): ("replicas", "readyReplicas"),
    ("apps", "StatefulSet"): ("replicas", "readyReplicas"),
    ("apps", "ReplicaSet"): ("replicas", "readyReplicas"),
    ("postgresql.cnpg.io", "Cluster"): ("instances", "readyInstances"),
}
REPORTS_READY = {"Deployment", "StatefulSet", "ReplicaSet", "Cluster"}


@dataclass
class _Listing:
    taken: float
    items: asyncio.Future[dict[str, dict[str, Any]]]


@dataclass
class Listings:
    """One LIST per (namespace, collection path) shared by all reads within `fresh_for` seconds."""

    client: clients.KubeClient
    fresh_for: float = 2.0
    clock: Callable[[], float] = time.monotonic
    _cache: dict[str, _Listing] = field(default_factory=dict)

    async def item(self, collection: str, name: str) -> dict[str, Any] | None:
        now = self.clock()
        listing = self._cache.get(collection)
        if listing is None or now - listing.taken > self.fresh_for or _failed(listing.items):
            listing = _Listing(now, asyncio.ensure_future(self._list(collection)))
            self._cache[collection] = listing
        items = await asyncio.shield(listing.items)
        return items.get(name)

    async def _list(self, collection: str) -> dict[str, dict[str, Any]]:
        answer = await self.client.get(collection)
        return {str(item["metadata"]["name"]): item for item in answer.get("items") or ()}

    def wrote(self, collection: str, name: str, spec_field: str, replicas: int) -> None:
        """A /scale write landed: the listed object says so too (no new LIST for the other reads)."""
        listing = self._cache.get(collection)
        if listing is not None and listing.items.done() and not _failed(listing.items):
            obj = listing.items.result().get(name)
            if obj is not None:
                obj.setdefault("spec", {})[spec_field] = replicas


def _failed(future: asyncio.Future[Any]) -> bool:
    return future.done() and (future.cancelled() or future.exception() is not None)


class KubernetesScaleTarget:
    """`ref` in `namespace`, which is always the policy's own namespace (see targets.registry)."""

    def __init__(
        self, client: clients.KubeClient, namespace: str, ref: specs.TargetRef, *, listings: Listings
    ) -> None:
        group = ref.api_version.rpartition("/")[0]
        if not group:
            raise protocol.TargetError(
                f"targetRef.apiVersion: core-group kinds have no scalable kind here, was {ref.api_version!r}"
                " (use e.g. apps/v1)",
                retryable=False,
            )
        if not DNS_SUBDOMAIN.match(ref.name):
            raise protocol.TargetError(
                "targetRef.name: must be the name of an object in the policy's own namespace, "
                f"was {ref.name!r}",
                retryable=False,
            )
        self.client = client
        self.namespace = namespace
        self.ref = ref
        self.group = group
        self.listings = listings
        self._collection: str | None = None

    def __repr__(self) -> str:
        return (
            f"KubernetesScaleTarget({self.ref.kind}.{self.ref.api_version} {self.namespace}/{self.ref.name})"
        )

    async def read(self) -> protocol.ReplicaCount:
        collection = await self._resolve("read")
        fields = LISTABLE.get((self.group, self.ref.kind))
        if fields is not None:
            obj = await self._call("read", self.listings.item(collection, self.ref.name))
            if obj is None:
                raise protocol.TargetError(
                    f"cannot read {self._what}: HTTP 404 not found"
                    " (no such object in the policy's namespace)",
                    retryable=False,
                )
            return counts_of(obj, fields)
        scale = await self._call("read the scale of", self.client.get(f"{collection}/{self.ref.name}/scale"))
        obj = await self._call("read", self.client.get(f"{collection}/{self.ref.name}"))
        return counts(scale, obj)

    async def scale(self, replicas: int) -> None:
        collection = await self._resolve(f"scale to {replicas}")
        body = {"spec": {"replicas": replicas}}
        await self._call(
            f"scale to {replicas}", self.client.patch(f"{collection}/{self.ref.name}/scale", body)
        )
        fields = LISTABLE.get((self.group, self.ref.kind))
        if fields is not None:
            self.listings.wrote(collection, self.ref.name, fields[0], replicas)

    @property
    def _what(self) -> str:
        return f"{self.ref.kind} {self.namespace}/{self.ref.name}"

    async def _resolve(self, what: str) -> str:
        if self._collection is None:
            plural = await self._call(what, self.client.plural(self.ref.api_version, self.ref.kind))
            self._collection = clients.resource_path(self.ref.api_version, plural, self.namespace)
        return self._collection

    async def _call(self, what: str, call: Any) -> Any:
        try:
            return await call
        except clients.ApiError as exc:
            raise api_error(exc, f"{what} {self._what}") from exc


def counts_of(obj: dict[str, Any], fields: tuple[str, str]) -> protocol.ReplicaCount:
    """Asked-for and ready counts from the object itself (a LIST item), for a kind in LISTABLE."""
    spec_field, ready_field = fields
    current = (obj.get("spec") or {}).get(spec_field, 1 if spec_field == "replicas" else 0)
    ready = (obj.get("status") or {}).get(ready_field, 0)  # Kubernetes omits zero-valued fields
    if not isinstance(current, int) or not isinstance(ready, int):
        raise protocol.TargetError(
            f"replica counts are not integers: {current!r}, {ready!r}", retryable=False
        )
    selector = (obj.get("spec") or {}).get("selector")
    return protocol.ReplicaCount(
        current=current, ready=ready, selector=formatted(selector) if isinstance(selector, dict) else None
    )


def formatted(selector: dict[str, Any]) -> str:
    """A LabelSelector (`matchLabels`, `matchExpressions`) in its string form, as the Scale's
    `status.selector` carries it (apimachinery's FormatLabelSelector)."""
    parts = [f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for expression in selector.get("matchExpressions") or []:
        key, op = expression.get("key"), expression.get("operator")
        values = ",".join(sorted(str(v) for v in expression.get("values") or []))
        parts.append(
            {"In": f"{key} in ({values})", "NotIn": f"{key} notin ({values})", "Exists": str(key)}.get(
                str(op), f"!{key}"
            )
        )
    return ",".join(parts)


def counts(scale: dict[str, Any], obj: dict[str, Any]) -> protocol.ReplicaCount:
    """Asked-for and ready counts from a Scale and the object itself (kinds read one by one)."""
    if scale.get("kind") != "Scale":
        raise protocol.TargetError(
            f"GET /scale answered a {scale.get('kind') or 'non-object'}, not an autoscaling/v1 Scale",
            retryable=False,
        )
    current = (scale.get("spec") or {}).get("replicas", 0)  # a Scale omits replicas when it is 0
    status = obj.get("status") or {}
    ready = next((status[f] for f in READY_FIELDS if f in status), None)
    if ready is None:
        # Only kinds that never report readiness fall back to the Scale's observed replicas.
        ready = 0 if obj.get("kind") in REPORTS_READY else (scale.get("status") or {}).get("replicas", 0)
    if not isinstance(current, int) or not isinstance(ready, int):
        raise protocol.TargetError(
            f"replica counts are not integers: {current!r}, {ready!r}", retryable=False
        )
    selector = (scale.get("status") or {}).get("selector")
    return protocol.ReplicaCount(
        current=current, ready=ready, selector=selector if isinstance(selector, str) else None
    )


def api_error(exc: clients.ApiError, what: str) -> protocol.TargetError:
    hint = {
        404: " (no such object in the policy's namespace)",
        403: " (the operator's RBAC does not allow it)",
        409: " (conflict, will retry)",
    }.get(exc.status, "")
    return protocol.TargetError(f"cannot {what}: {exc}{hint}", retryable=exc.retryable)
