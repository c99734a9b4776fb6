"""The gateway's cluster home: routes from EndpointSlices, wakes by annotating the Function.

    routes   every `poll_seconds`, LIST the Functions (scaleplane.io/v1alpha1) and the EndpointSlices of
             the watched namespaces; a Function's ready instances are the ready endpoints of the
             EndpointSlices of its Service (label kubernetes.io/service-name = the Function's name, which
             is its Service's name, see operator.manifests.functions), as http://ADDRESS:PORT of the `http`
             port.
             A Function with no ready endpoint is known, at zero.
    wake     a merge PATCH of the Function's annotation `scaleplane.io/wake-requested-at` (Unix time);
             the operator (operator.wiring.waking) reacts to the change by scaling the Deployment from zero at
             once and marking its policy active. RBAC: get/list functions, patch functions, list
             endpointslices (operator/gateway.yaml).

The `kubernetes` client is synchronous: calls run in threads, with client-side retries off (the next
poll, or the repeated wake, is the retry).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Sequence
from typing import Any

from kubernetes import client as k8s
from kubernetes import config as k8s_config

from scaleplane.functions import routes

log = logging.getLogger(__name__)
GROUP, VERSION, PLURAL = "scaleplane.io", "v1alpha1", "functions"
WAKE_ANNOTATION = "scaleplane.io/wake-requested-at"
SERVICE_LABEL = "kubernetes.io/service-name"
USER_AGENT = "scaleplane-gateway/0.1"


def api_client(server: str | None) -> k8s.ApiClient:
    conf = k8s.Configuration()
    if server:
        conf.host = server.rstrip("/")
    else:
        try:
            k8s_config.load_incluster_config(client_configuration=conf)  # type: ignore[no-untyped-call]
        except k8s_config.ConfigException:
            k8s_config.load_kube_config(client_configuration=conf)  # type: ignore[no-untyped-call]
    conf.retries = 0
    api = k8s.ApiClient(conf)
    api.user_agent = USER_AGENT  # the RBAC test tells the gateway's requests apart by it
    return api


def ready_urls(slices: Sequence[dict[str, Any]]) -> list[str]:
    """http://address:port of every ready endpoint of these EndpointSlices (port `http`, else the first)."""
    urls = []
    for piece in slices:
        ports = piece.get("ports") or []
        port = next((p for p in ports if p.get("name") == "http"), ports[0] if ports else None)
        if port is None or port.get("port") is None:
            continue
        for endpoint in piece.get("endpoints") or []:
            if (endpoint.get("conditions") or {}).get("ready") is False:
                continue
            for address in endpoint.get("addresses") or []:
                host = f"[{address}]" if ":" in address else address
                urls.append(f"http://{host}:{port['port']}")
    return sorted(set(urls))


class EndpointSliceRoutes:
    """A route source for the gateway (same `scan()` as routes.RouteDirectory), from the cluster."""

    blocking = True

    def __init__(self, api: k8s.ApiClient, namespaces: Sequence[str], *, poll_seconds: float = 0.5) -> None:
        self.custom = k8s.CustomObjectsApi(api)
        self.discovery = k8s.DiscoveryV1Api(api)
        self.namespaces = list(namespaces)
        self.poll_seconds = poll_seconds
        self._last: dict[routes.FunctionKey, list[str]] = {}

    def scan(self) -> tuple[dict[routes.FunctionKey, list[str]], bool]:
        table: dict[routes.FunctionKey, list[str]] = {}
        for namespace in self.namespaces:
            functions: Any = self.custom.list_namespaced_custom_object(
                GROUP, VERSION, namespace, PLURAL, _request_timeout=5
            )
            slices: Any = self.discovery.list_namespaced_endpoint_slice(
                namespace, _request_timeout=5, _preload_content=False
            )
            by_service: dict[str, list[dict[str, Any]]] = {}
            for piece in json.loads(slices.data).get("items", []):
                service = ((piece.get("metadata") or {}).get("labels") or {}).get(SERVICE_LABEL)
                if service:
                    by_service.setdefault(service, []).append(piece)
            for item in functions.get("items", []):
                name = item["metadata"]["name"]
                table[routes.FunctionKey(namespace, name)] = ready_urls(by_service.get(name, []))
        changed = table != self._last
        self._last = table
        return table, changed


class KubernetesWaker:
    def __init__(self, api: k8s.ApiClient) -> None:
        self.custom = k8s.CustomObjectsApi(api)

    async def wake(self, key: routes.FunctionKey) -> None:
        body = {"metadata": {"annotations": {WAKE_ANNOTATION: f"{time.time():.3f}"}}}
        try:
            patch = self.custom.patch_namespaced_custom_object
            await asyncio.to_thread(
                patch, GROUP, VERSION, key.namespace, PLURAL, key.name, body, _request_timeout=5
            )
        except Exception as exc:  # the call still waits; the wake repeats while it does
            log.warning("wake %s: cannot annotate the Function (%s)", key, exc)

    async def close(self) -> None:
        return None
