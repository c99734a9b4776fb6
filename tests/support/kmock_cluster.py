"""A kmock Kubernetes emulator that behaves enough like an API server for kopf and the /scale targets.

Shared by the operator tests (tests/operator, tests/e2e/test_operator*.py) and the Kubernetes target
tests. Written by the operator engineer first; extend it additively (new options, new resources) and keep
existing behaviour, several suites depend on it.

What it adds to `kmock.KubernetesEmulator` (see /work/shared/ENVIRONMENT.md for the gaps):

- `metadata.resourceVersion` on every write (one counter for the whole server), `uid`, `namespace`,
  `creationTimestamp`, `generation` (bumped when `spec` changes); `generateName` is honoured, so kopf's
  Events (all posted with the same generateName) no longer collide with 409.
- creates answer 201; a create of an existing name answers 409 AlreadyExists.
- PATCH: merge patch (RFC 7386) and JSON patch (RFC 6902, via `jsonpatch`). A failed JSON-patch `test`
  op answers 422, a merge patch carrying a stale `metadata.resourceVersion` answers 409 Conflict (what
  a real server does), so optimistic concurrency can be tested. PUT replaces, with the same 409.
- `/status` writes touch only `status`; `/scale` GET answers an `autoscaling/v1` Scale, and a PATCH
  or PUT of `spec.replicas` lands on the object's replica field (`spec.instances` for CloudNativePG
  `clusters.postgresql.cnpg.io`, `spec.replicas` otherwise). A kind without /scale answers 404.
- A make-believe workload controller (`auto_ready=True`, the default): whenever a Deployment's or
  StatefulSet's replicas change, its status reports them all ready; a CNPG Cluster's `status.instances`
  and `readyInstances` follow `spec.instances`. Set `auto_ready=False` to drive status by hand.
- Garbage collection: deleting an object deletes the objects whose `ownerReferences` name its uid.
- Authentication, when asked: with `cluster.tokens = {"a"}` every request must carry
  `Authorization: Bearer a` (any token of the set), else 401 Unauthorized, as a real server treats
  an expired or rotated-out token. `None` (the default) accepts every request.
- Lists honour `labelSelector` equality terms (`a=b,c=d`), as kubectl and the CLI send them.
- Faults on purpose: `cluster.inject(method, path_part, status=..., times=..., delay=...)` makes the next
  `times` matching requests answer `status` (409, 422, 500...) or stall for `delay` seconds first.
  Requests that fail this way change nothing.

Use it as `async with KubernetesCluster() as cluster, kmock.Server(cluster) as server:`; `server.url`
is the API's base URL; `kube_client(server.url)` is the operator's own client aimed at it. It runs
on the test's event loop: while kopf runs in a KopfRunner thread, wait with `await asyncio.sleep(...)`
(never `time.sleep`), or the API stops answering.
"""

from __future__ import annotations

import asyncio
import copy
import datetime
import itertools
import uuid
from dataclasses import dataclass
from typing import Any

import aiohttp.web
import attrs
import jsonpatch
import kmock
from kmock._internal import enums, rendering
from lightkube.config import kubeconfig

from scaleplane.kube import clients, credentials

# Resources whose /scale subresource reads and writes another field than spec.replicas.
REPLICA_FIELDS: dict[tuple[str, str], tuple[str, str, str]] = {
    # (group, plural): (spec field, status field, status ready field)
    ("postgresql.cnpg.io", "clusters"): ("instances", "instances", "readyInstances"),
}
DEFAULT_REPLICA_FIELDS = ("replicas", "replicas", "readyReplicas")
SCALABLE = {
    ("apps", "deployments"),
    ("apps", "statefulsets"),
    ("apps", "replicasets"),
    ("postgresql.cnpg.io", "clusters"),
}


def kube_client(
    url: Any, user: dict[str, Any] | None = None, cluster: dict[str, Any] | None = None, **kwargs: Any
) -> clients.KubeClient:
    """The operator's client for this emulator; `user` and `cluster` as in a kubeconfig (default: none)."""
    config = kubeconfig.KubeConfig.from_dict(
        {
            "clusters": [{"name": "kmock", "cluster": {"server": str(url).rstrip("/"), **(cluster or {})}}],
            "users": [{"name": "u", "user": user or {}}],
            "contexts": [{"name": "kmock", "context": {"cluster": "kmock", "user": "u"}}],
            "current-context": "kmock",
        }
    ).get()
    assert config is not None
    return clients.KubeClient(credentials.Credentials(config, "test kubeconfig"), **kwargs)


@dataclass
class Fault:
    method: str
    path_part: str
    status: int | None
    times: int
    delay: float


def _status(code: int, reason: str, message: str) -> kmock.KubernetesError:
    return kmock.KubernetesError(status=code, reason=reason, message=message, details={})


def merge_patch(base: Any, patch: Any) -> Any:
    """RFC 7386: dicts merge recursively, None removes a key, anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(base) if isinstance(base, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


@attrs.define(kw_only=True)
class KubernetesCluster(kmock.KubernetesEmulator):
    auto_ready: bool = True
    faults: list[Fault] = attrs.field(factory=list)
    tokens: set[str] | None = None
    refused: int = 0  # how many requests got 401
    scalable: set[tuple[str, str]] = attrs.field(factory=lambda: set(SCALABLE))  # (group, plural)
    _object_resources: set[Any] = attrs.field(factory=set, init=False)
    _resources_at: int = attrs.field(default=-1, init=False)
    _versions: Any = attrs.field(factory=lambda: itertools.count(1000), init=False)

    def inject(
        self, method: str, path_part: str, *, status: int | None = None, times: int = 1, delay: float = 0.0
    ) -> Fault:
        """Make the next `times` requests with `method` whose path contains `path_part` fail/stall."""
        fault = Fault(method.upper(), path_part, status, times, delay)
        self.faults.append(fault)
        return fault

    def read_object(self, resource: str, namespace: str | None, name: str) -> dict[str, Any] | None:
        """The stored object (a plain dict), or None when absent or deleted."""
        key = (kmock.resource(resource), namespace, name)
        if key not in self.objects or self.objects[key].deleted:
            return None
        return copy.deepcopy(self.objects[key].raw)

    def put_object(self, resource: str, body: dict[str, Any]) -> dict[str, Any]:
        """Seed an object directly (test setup), with the metadata a server would fill."""
        meta = body.setdefault("metadata", {})
        self._fill_metadata(meta, meta.get("namespace"))
        self._settle(kmock.resource(resource), body)
        self.objects[resource, meta.get("namespace"), meta["name"]] = body
        self._stored(kmock.resource(resource))
        return body

    def _get_resources(self) -> list[Any]:
        # kmock rebuilds this list from every stored object on every request; at the 20,000 objects
        # of bench/operator_e2e.py that scan is most of its time. Keep the stored objects' resources
        # in a set instead, rescanned only when objects were added some other way than ours.
        if len(self.objects) != self._resources_at:
            self._object_resources = {key[0] for key in self.objects}
        self._resources_at = len(self.objects)
        declared = super(kmock.KubernetesEmulator, self)._get_resources()
        return list(set(declared) | self._object_resources)

    def _stored(self, resource: Any) -> None:
        if len(self.objects) == self._resources_at + 1:
            self._object_resources.add(resource)
            self._resources_at += 1

    # -- request handling ------------------------------------------------------------------------

    async def _handle(self, request: rendering.Request) -> aiohttp.web.StreamResponse:
        if self.tokens is not None:
            sent = request.headers.get("Authorization", "")
            if not any(sent == f"Bearer {token}" for token in self.tokens):
                self.refused += 1
                raise _status(401, "Unauthorized", "the token is not (or no longer) valid")
        if request.resource is None:
            return await super()._handle(request)
        await self._apply_faults(request)
        method = str(request.method.value if hasattr(request.method, "value") else request.method).upper()
        if request.action == enums.action.CREATE:
            return await self._create(request)
        if request.name is not None and method in ("PATCH", "PUT"):
            return await self._write(request, replace=(method == "PUT"))
        if request.name is not None and method == "DELETE":
            return await self._delete(request)
        if request.subresource == "scale" and request.action == enums.action.FETCH:
            return await self._fetch_scale(request)
        return await super()._handle(request)

    async def _serve_list(self, request: rendering.Request) -> rendering.Payload:
        listing = await super()._serve_list(request)
        selector = request.params.get("labelSelector")
        if not selector or not isinstance(listing, dict):
            return listing
        terms = dict(term.split("=", 1) for term in selector.split(",") if "=" in term)
        listing["items"] = [
            item
            for item in listing.get("items") or ()
            if all((item.get("metadata", {}).get("labels") or {}).get(k) == v for k, v in terms.items())
        ]
        return listing

    async def _apply_faults(self, request: rendering.Request) -> None:
        method = str(request.method.value if hasattr(request.method, "value") else request.method).upper()
        path = str(request.url.path)
        for fault in list(self.faults):
            if fault.times > 0 and fault.method == method and fault.path_part in path:
                fault.times -= 1
                if fault.delay:
                    await asyncio.sleep(fault.delay)
                if fault.status is not None:
                    raise _status(fault.status, "InjectedFault", f"injected {fault.status} for {path}")
                return

    def _fill_metadata(self, meta: dict[str, Any], namespace: str | None) -> None:
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = meta["generateName"] + uuid.uuid4().hex[:5]
        if namespace is not None:
            meta["namespace"] = namespace
        meta.setdefault("uid", str(uuid.uuid4()))
        now = datetime.datetime.now(tz=datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        meta.setdefault("creationTimestamp", now)
        meta["resourceVersion"] = str(next(self._versions))
        meta.setdefault("generation", 1)

    def _key(self, request: rendering.Request, name: str | None = None) -> Any:
        return (request.resource, request.namespace, name or request.name)

    async def _create(self, request: rendering.Request) -> aiohttp.web.StreamResponse:
        body = copy.deepcopy(request.data) if isinstance(request.data, dict) else {}
        meta = body.setdefault("metadata", {})
        namespace = request.namespace or meta.get("namespace")
        self._fill_metadata(meta, namespace)
        key = self._key(request, meta["name"])
        self._settle(request.resource, body)
        async with self._lock:
            if key in self.objects and not self.objects[key].deleted:
                raise _status(409, "AlreadyExists", f"{meta['name']!r} already exists")
            if key in self.objects:
                self.objects[key].create(body)
            else:
                self.objects[key] = body
                self._stored(request.resource)
            await self._buses[request.resource].put({"type": "ADDED", "object": copy.deepcopy(body)})
        return aiohttp.web.json_response(body, status=201)

    async def _write(self, request: rendering.Request, *, replace: bool) -> aiohttp.web.StreamResponse:
        key = self._key(request)
        sub = request.subresource
        if sub == "scale" and (request.resource.group, request.resource.plural) not in self.scalable:
            raise _status(404, "NotFound", f"{request.resource.plural} has no /scale subresource")
        async with self._lock:
            if key not in self.objects or self.objects[key].deleted:
                raise _status(404, "NotFound", f"{request.name!r} not found")
            current = copy.deepcopy(self.objects[key].raw)
            view = self._scale_of(request.resource, current) if sub == "scale" else current
            changed = self._changed(request, view, replace=replace)
            self._check_version(request, current, changed)
            new = self._land(request.resource, sub, current, changed)
            meta = new.setdefault("metadata", {})
            meta["resourceVersion"] = str(next(self._versions))
            if new.get("spec") != current.get("spec"):
                meta["generation"] = int(current.get("metadata", {}).get("generation", 1)) + 1
            self._settle(request.resource, new)
            gone = bool(meta.get("deletionTimestamp")) and not meta.get("finalizers")
            self.objects[key].history.append(new)
            await self._buses[request.resource].put({"type": "MODIFIED", "object": copy.deepcopy(new)})
            if gone:
                await self._remove(request.resource, key, new)
        answer = self._scale_of(request.resource, new) if sub == "scale" else new
        return aiohttp.web.json_response(answer)

    def _changed(self, request: rendering.Request, view: dict[str, Any], *, replace: bool) -> dict[str, Any]:
        data = request.data
        content_type = request.headers.get("Content-Type", "")
        if replace:
            if not isinstance(data, dict):
                raise _status(400, "BadRequest", "PUT needs an object")
            return copy.deepcopy(data)
        if "json-patch" in content_type or isinstance(data, list):
            try:
                result: dict[str, Any] = jsonpatch.apply_patch(view, data)
                return result
            except jsonpatch.JsonPatchTestFailed as exc:
                raise _status(422, "Invalid", f"the JSON-patch test failed: {exc}") from None
            except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException) as exc:
                raise _status(422, "Invalid", f"the JSON patch cannot apply: {exc}") from None
        if not isinstance(data, dict):
            raise _status(400, "BadRequest", "a merge patch must be an object")
        merged: dict[str, Any] = merge_patch(view, data)
        sent = (data.get("metadata") or {}).get("resourceVersion")
        if sent is not None:
            merged.setdefault("metadata", {})["resourceVersion"] = sent
        return merged

    def _check_version(
        self, request: rendering.Request, current: dict[str, Any], changed: dict[str, Any]
    ) -> None:
        if request.subresource == "scale":
            return
        sent = (changed.get("metadata") or {}).get("resourceVersion")
        have = current.get("metadata", {}).get("resourceVersion")
        if sent is not None and sent != have:
            raise _status(
                409, "Conflict", f"the object has been modified (resourceVersion {sent} is not {have})"
            )

    def _land(self, resource: Any, sub: str | None, current: dict[str, Any], changed: dict[str, Any]) -> Any:
        if sub == "status":
            return {**current, "status": changed.get("status", {})}
        if sub == "scale":
            spec_field = self._fields(resource)[0]
            replicas = int((changed.get("spec") or {}).get("replicas", 0))
            return merge_patch(current, {"spec": {spec_field: replicas}})
        new = dict(changed)
        new["metadata"] = {**current.get("metadata", {}), **(changed.get("metadata") or {})}
        for fixed in ("uid", "creationTimestamp", "namespace", "name"):
            if fixed in current.get("metadata", {}):
                new["metadata"][fixed] = current["metadata"][fixed]
        return new

    async def _delete(self, request: rendering.Request) -> aiohttp.web.StreamResponse:
        key = self._key(request)
        async with self._lock:
            if key not in self.objects or self.objects[key].deleted:
                raise _status(404, "NotFound", f"{request.name!r} not found")
            current = copy.deepcopy(self.objects[key].raw)
            meta = current.setdefault("metadata", {})
            if meta.get("finalizers"):
                if not meta.get("deletionTimestamp"):
                    meta["deletionTimestamp"] = datetime.datetime.now(tz=datetime.UTC).isoformat()
                    meta["resourceVersion"] = str(next(self._versions))
                    self.objects[key].history.append(current)
                    await self._buses[request.resource].put({"type": "MODIFIED", "object": current})
            else:
                await self._remove(request.resource, key, current)
        return aiohttp.web.json_response(current)

    async def _remove(self, resource: Any, key: Any, body: dict[str, Any]) -> None:
        """Delete under the lock, then collect the garbage: every object owned by this one."""
        self.objects[key].delete()
        await self._buses[resource].put({"type": "DELETED", "object": copy.deepcopy(body)})
        uid = body.get("metadata", {}).get("uid")
        for other_key, other in list(self.objects.items()):
            if other.deleted:
                continue
            owners = other.raw.get("metadata", {}).get("ownerReferences") or []
            if any(ref.get("uid") == uid for ref in owners):
                await self._remove(other_key[0], other_key, copy.deepcopy(other.raw))

    async def _fetch_scale(self, request: rendering.Request) -> aiohttp.web.StreamResponse:
        if (request.resource.group, request.resource.plural) not in self.scalable:
            raise _status(404, "NotFound", f"{request.resource.plural} has no /scale subresource")
        key = self._key(request)
        obj = None if key not in self.objects or self.objects[key].deleted else self.objects[key].raw
        if obj is None:
            raise _status(404, "NotFound", f"{request.name!r} not found")
        return aiohttp.web.json_response(self._scale_of(request.resource, obj))

    # -- the /scale view and the make-believe workload controller -----------------------------------

    def _fields(self, resource: Any) -> tuple[str, str, str]:
        return REPLICA_FIELDS.get((resource.group, resource.plural), DEFAULT_REPLICA_FIELDS)

    def _scale_of(self, resource: Any, obj: dict[str, Any]) -> dict[str, Any]:
        spec_field, status_field, _ = self._fields(resource)
        meta = obj.get("metadata", {})
        return {
            "apiVersion": "autoscaling/v1",
            "kind": "Scale",
            "metadata": {
                "name": meta.get("name"),
                "namespace": meta.get("namespace"),
                "resourceVersion": meta.get("resourceVersion"),
                "uid": meta.get("uid"),
            },
            "spec": {"replicas": int((obj.get("spec") or {}).get(spec_field, 0))},
            "status": {"replicas": int((obj.get("status") or {}).get(status_field, 0))},
        }

    def _settle(self, resource: Any, obj: dict[str, Any]) -> None:
        if not self.auto_ready or (resource.group, resource.plural) not in self.scalable:
            return
        spec_field, status_field, ready_field = self._fields(resource)
        wanted = (obj.get("spec") or {}).get(spec_field)
        if wanted is None:
            return
        status = obj.setdefault("status", {})
        status[status_field] = int(wanted)
        status[ready_field] = int(wanted)
        if (resource.group, resource.plural) != ("postgresql.cnpg.io", "clusters"):
            status["availableReplicas"] = int(wanted)
            status["updatedReplicas"] = int(wanted)
