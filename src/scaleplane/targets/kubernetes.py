"""A ScaleTarget over the Kubernetes `/scale` subresource: Deployment, StatefulSet, CloudNativePG Cluster
(`postgresql.cnpg.io/v1` `clusters`, whose /scale maps to `spec.instances`) and any custom resource that
declares a scale subresource.

Why the `kubernetes` client, in threads, through `CustomObjectsApi`: it brings kubeconfig and in-cluster
authentication (tokens, exec plugins, certificates) that a hand-written aiohttp client would have to
copy; `CustomObjectsApi` reaches `/apis/GROUP/VERSION/namespaces/NS/PLURAL/NAME/scale` for built-in
kinds too and returns plain dicts, so no typed model rejects an unexpected shape. Calls are blocking,
so each runs in a worker thread; the controller bounds how many run at once.

Reading: GET /scale gives the asked-for count (`spec.replicas`) for every kind; readiness is not part of
a Scale, so the object itself is read for `status.readyReplicas` (Deployment, StatefulSet) or
`status.readyInstances` (CloudNativePG), else the Scale's `status.replicas`. Some API emulators answer
GET /scale with the whole object: then the counts come straight from it (`spec.replicas` or
`spec.instances`). Scaling: PATCH /scale with a merge patch `{"spec": {"replicas": N}}` (a PUT would
need the current resourceVersion, and a conflict on it buys nothing here).

Errors: 409, 429, 5xx, timeouts and refused connections are retryable; 404 (no such object),
401/403 (RBAC), 422 (rejected value) and other 4xx are not.
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import urllib3
from kubernetes import config as k8s_config
from kubernetes.client import api_client, configuration
from kubernetes.client import exceptions as k8s_exceptions
from kubernetes.client.api import custom_objects_api

from scaleplane.scaling import specs
from scaleplane.targets import protocol

# Kinds whose plural is not simply the lower-cased kind plus "s", or that are common enough to name.
KNOWN_PLURALS = {
    ("apps", "Deployment"): "deployments",
    ("apps", "StatefulSet"): "statefulsets",
    ("apps", "ReplicaSet"): "replicasets",
    ("postgresql.cnpg.io", "Cluster"): "clusters",
}
RETRYABLE_STATUSES = {409, 429, 500, 502, 503, 504}
DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")
READY_FIELDS = ("readyReplicas", "readyInstances")
REPORTS_READY = {"Deployment", "StatefulSet", "ReplicaSet", "Cluster"}
SPEC_FIELDS = ("replicas", "instances")
MERGE_PATCH = "application/merge-patch+json"


def plural_of(group: str, kind: str) -> str:
    """The resource's plural: known kinds from the table, others by the English rule CRDs follow."""
    known = KNOWN_PLURALS.get((group, kind))
    if known:
        return known
    lower = kind.lower()
    if lower.endswith(("s", "x", "ch", "sh")):
        return lower + "es"
    if lower.endswith("y") and lower[-2:-1] not in "aeiou":
        return lower[:-1] + "ies"
    return lower + "s"


def new_api_client(*, server: str | None = None) -> api_client.ApiClient:
    """An ApiClient from the in-cluster service account, else the kubeconfig; `server` (a plain URL,
    e.g. an emulator's) replaces both. Client-side retries are off: the control loop retries with its
    own backoff, and urllib3's silent retries would hide a slow API server inside one long call.
    """
    conf = configuration.Configuration()
    if server:
        conf.host = server.rstrip("/")
    else:
        try:
            k8s_config.load_incluster_config(client_configuration=conf)  # type: ignore[no-untyped-call]
        except k8s_config.ConfigException:
            k8s_config.load_kube_config(client_configuration=conf)  # type: ignore[no-untyped-call]
    conf.retries = 0
    return api_client.ApiClient(conf)


class KubernetesScaleTarget:
    """`ref` in `namespace`, which is always the policy's own namespace (see targets.registry)."""

    def __init__(
        self,
        api: custom_objects_api.CustomObjectsApi,
        namespace: str,
        ref: specs.TargetRef,
        *,
        request_timeout: float = 5.0,
        plural: str | None = None,
    ) -> None:
        group, _, version = ref.api_version.rpartition("/")
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
        self.api = api
        self.namespace = namespace
        self.ref = ref
        self.group, self.version = group, version
        self.plural = plural or plural_of(group, ref.kind)
        self.request_timeout = request_timeout

    def __repr__(self) -> str:
        where = f"{self.plural}.{self.group}/{self.version} {self.namespace}/{self.ref.name}"
        return f"KubernetesScaleTarget({where})"

    async def read(self) -> protocol.ReplicaCount:
        scale = await self._call("read the scale of", self.api.get_namespaced_custom_object_scale)
        if scale.get("kind") != "Scale":  # an emulator's whole-object answer
            return counts(scale, scale)
        obj = await self._call("read", self.api.get_namespaced_custom_object)
        return counts(scale, obj)

    async def scale(self, replicas: int) -> None:
        body = {"spec": {"replicas": replicas}}
        await self._call(
            f"scale to {replicas}",
            self.api.patch_namespaced_custom_object_scale,
            body=body,
            _content_type=MERGE_PATCH,
        )

    async def _call(self, what: str, method: Any, **kwargs: Any) -> dict[str, Any]:
        def call() -> Any:
            return method(
                self.group,
                self.version,
                self.namespace,
                self.plural,
                self.ref.name,
                _request_timeout=self.request_timeout,
                **kwargs,
            )

        try:
            answer = await asyncio.to_thread(call)
        except k8s_exceptions.ApiException as exc:
            raise api_error(exc, f"{what} {self.ref.kind} {self.namespace}/{self.ref.name}") from exc
        except urllib3.exceptions.HTTPError as exc:  # timeouts, refused connections, broken responses
            cause = exc.reason if isinstance(exc, urllib3.exceptions.MaxRetryError) else exc
            raise protocol.TargetError(
                f"cannot {what} {self.ref.kind} {self.namespace}/{self.ref.name}: {type(cause).__name__}",
                retryable=True,
            ) from exc
        if not isinstance(answer, dict):
            raise protocol.TargetError(
                f"cannot {what}: the API answered {type(answer).__name__}, not an object"
            )
        return answer


def counts(scale: dict[str, Any], obj: dict[str, Any]) -> protocol.ReplicaCount:
    """Asked-for and ready counts from a Scale (or a whole object) and the object itself."""
    spec = scale.get("spec") or {}
    if scale.get("kind") == "Scale":
        current = spec.get("replicas", 0)  # a Scale omits replicas when it is 0
    else:
        current = next((spec[f] for f in SPEC_FIELDS if f in spec), None)
        if current is None:
            raise protocol.TargetError(
                f"{obj.get('kind', 'object')} has neither spec.replicas nor spec.instances", retryable=False
            )
    status = obj.get("status") or {}
    ready = next((status[f] for f in READY_FIELDS if f in status), None)
    if ready is None:
        # Kubernetes omits zero-valued fields: a Deployment with nothing ready has no readyReplicas.
        # Only kinds that never report readiness fall back to the Scale's observed replicas.
        reports_ready = obj.get("kind") in REPORTS_READY or scale.get("kind") != "Scale"
        ready = 0 if reports_ready else (scale.get("status") or {}).get("replicas", 0)
    if not isinstance(current, int) or not isinstance(ready, int):
        raise protocol.TargetError(
            f"replica counts are not integers: {current!r}, {ready!r}", retryable=False
        )
    return protocol.ReplicaCount(current=current, ready=ready)


def api_error(exc: k8s_exceptions.ApiException, what: str) -> protocol.TargetError:
    status = exc.status or 0
    detail = _status_message(exc.body) or exc.reason or "no detail"
    hint = {
        404: " (no such object in the policy's namespace)",
        403: " (the operator's RBAC does not allow it)",
        409: " (conflict, will retry)",
    }.get(status, "")
    return protocol.TargetError(
        f"cannot {what}: HTTP {status} {detail}{hint}", retryable=status in RETRYABLE_STATUSES
    )


def _status_message(body: Any) -> str | None:
    """The `message` of a Kubernetes Status body, if the body is one."""
    try:
        payload = json.loads(body) if isinstance(body, str | bytes) else None
    except ValueError:
        return str(body)[:200] if body else None
    if isinstance(payload, dict) and payload.get("message"):
        return str(payload["message"])[:300]
    return None
