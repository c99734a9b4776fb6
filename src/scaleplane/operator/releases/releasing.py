"""`scaleplane fn deploy | list | rollback | delete` against a cluster: versions of a Function resource.

A version is a ConfigMap named `<function>-v<N>` in the Function's namespace, holding the handler
file (`handler.py`) and the settings it was deployed with (`function.json`: concurrency, bounds, idle
time, the handler's function name, the note). The Function resource names its versions in the
annotation `scaleplane.io/versions` (a JSON list, oldest first) and runs one of them: its
`spec.source` names that version's ConfigMap, and `source.version` (= N) rolls the pods onto it
(operator.manifests.functions). So:

    deploy     creates ConfigMap v<N+1>, then creates the Function or points it at the new version
    rollback   points the Function at an earlier version's ConfigMap and settings (nothing is rebuilt)
    list       the Functions with their current version, all versions, and ready replicas
    delete     deletes the Function (its Deployment, Service and policy go with it) and its versions

Concurrency: every write of the Function carries the `resourceVersion` it was computed from, so two
deploys at once cannot both win silently; the loser's API answer is 409 Conflict, and it re-reads the
Function and applies its change again (a version number already taken by a concurrent deploy's
ConfigMap, 409 AlreadyExists, moves on to the next number). After `ATTEMPTS` conflicts in a row it
gives up and says so (`Conflicted`). What does not exist raises `ReleaseError`; API errors stay
`kube.clients.ApiError` (the CLI says what to do about each status).
"""

from __future__ import annotations

import contextlib
import json
import time
from dataclasses import dataclass
from typing import Any

from scaleplane.kube import clients
from scaleplane.operator.manifests import functions

API_VERSION = "scaleplane.io/v1alpha1"
PLURAL = "functions"
VERSIONS = "scaleplane.io/versions"
CODE_KEY = "handler.py"
SETTINGS_KEY = "function.json"
ATTEMPTS = 5


class ReleaseError(Exception):
    """What the user asked for does not exist (no such Function, no such version)."""


class Conflicted(ReleaseError):
    """The Function changed under every attempt (concurrent writers); nothing was overwritten."""


@dataclass(frozen=True)
class Release:
    namespace: str
    name: str
    version: int
    versions: tuple[int, ...]


def function_path(namespace: str, name: str | None = None) -> str:
    return clients.resource_path(API_VERSION, PLURAL, namespace, name)


def config_map_path(namespace: str, name: str | None = None) -> str:
    return clients.resource_path("v1", "configmaps", namespace, name)


def versions_of(function: dict[str, Any]) -> list[dict[str, Any]]:
    text = (function.get("metadata", {}).get("annotations") or {}).get(VERSIONS)
    try:
        found = json.loads(text) if text else []
    except ValueError:
        return []
    return [v for v in found if isinstance(v, dict) and isinstance(v.get("version"), int)]


def current_version(function: dict[str, Any]) -> int | None:
    version = ((function.get("spec") or {}).get("source") or {}).get("version")
    return int(version) if isinstance(version, str) and version.isdigit() else None


def function_spec(settings: dict[str, Any], config_map: str, version: int) -> dict[str, Any]:
    """The Function's spec for a version: its settings, and its ConfigMap as the source."""
    spec = {k: v for k, v in settings.items() if k not in ("function", "note")}
    spec["source"] = {
        "configMap": config_map,
        "key": CODE_KEY,
        "function": settings.get("function", "main"),
        "version": str(version),
    }
    functions.parse_function(spec)  # the operator's own model: refuse here what it would refuse
    return spec


async def _read(client: clients.KubeClient, namespace: str, name: str) -> dict[str, Any] | None:
    try:
        found: dict[str, Any] = await client.get(function_path(namespace, name))
    except clients.ApiError as exc:
        if exc.status == 404:
            return None
        raise
    return found


async def _new_version_map(
    client: clients.KubeClient, namespace: str, name: str, first: int, code: str, settings: dict[str, Any]
) -> int:
    """Create the ConfigMap of the first free version number from `first`; return that number."""
    for version in range(first, first + ATTEMPTS):
        body = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": f"{name}-v{version}",
                "namespace": namespace,
                "labels": {functions.FUNCTION_LABEL: name, "scaleplane.io/function-version": str(version)},
            },
            "data": {CODE_KEY: code, SETTINGS_KEY: json.dumps(settings, sort_keys=True)},
        }
        try:
            await client.create(config_map_path(namespace), body)
        except clients.ApiError as exc:
            if exc.status == 409:  # a concurrent deploy took this number
                continue
            raise
        return version
    raise ReleaseError(f"{namespace}/{name}: versions v{first}..v{first + ATTEMPTS - 1} are all taken")


async def deploy(
    client: clients.KubeClient, namespace: str, name: str, code: str, settings: dict[str, Any]
) -> Release:
    """A new version of the function from its handler `code` and `settings`; it becomes current."""
    existing = await _read(client, namespace, name)
    taken = [v["version"] for v in versions_of(existing or {})]
    version = await _new_version_map(client, namespace, name, max(taken, default=0) + 1, code, settings)
    entry: dict[str, Any] = {"version": version, "configMap": f"{name}-v{version}", "at": round(time.time())}
    if settings.get("note"):
        entry["note"] = settings["note"]
    spec = function_spec(settings, entry["configMap"], version)
    for _ in range(ATTEMPTS):
        history = [*versions_of(existing or {}), entry]
        metadata: dict[str, Any] = {"annotations": {VERSIONS: json.dumps(history)}}
        try:
            if existing is None:
                body = {"apiVersion": API_VERSION, "kind": "Function", "spec": spec}
                metadata.update(name=name, namespace=namespace)
                await client.create(function_path(namespace), {**body, "metadata": metadata})
            else:
                metadata["resourceVersion"] = existing["metadata"]["resourceVersion"]
                await client.patch(function_path(namespace, name), {"metadata": metadata, "spec": spec})
        except clients.ApiError as exc:
            if exc.status != 409:
                raise
            existing = await _read(client, namespace, name)  # changed meanwhile: apply ours on top
            continue
        return Release(namespace, name, version, tuple(v["version"] for v in history))
    with contextlib.suppress(clients.ApiError):  # the version that never became current goes too
        await client.delete(config_map_path(namespace, entry["configMap"]))
    raise Conflicted(
        f"{namespace}/{name}: the Function changed under every one of {ATTEMPTS} attempts "
        "(concurrent deploys); nothing was changed, run deploy again"
    )


async def rollback(client: clients.KubeClient, namespace: str, name: str, to: int | None) -> Release:
    """Point the Function at an earlier version (the one before the current one, or `to`)."""
    for _ in range(ATTEMPTS):
        existing = await _read(client, namespace, name)
        if existing is None:
            raise ReleaseError(f"{namespace}/{name}: no such Function (deploy it first)")
        history = versions_of(existing)
        numbers = [v["version"] for v in history]
        current = current_version(existing)
        if to is None:
            earlier = [n for n in numbers if current is not None and n < current]
            if not earlier:
                raise ReleaseError(f"{namespace}/{name}: no version before v{current} to roll back to")
            to = max(earlier)
        if to not in numbers:
            raise ReleaseError(f"{namespace}/{name}: --to {to}: no such version (versions: {numbers})")
        config_map = next(v["configMap"] for v in history if v["version"] == to)
        try:
            stored = await client.get(config_map_path(namespace, config_map))
        except clients.ApiError as exc:
            if exc.status == 404:
                raise ReleaseError(f"{namespace}/{name}: v{to}'s ConfigMap {config_map} is gone") from None
            raise
        settings = json.loads((stored.get("data") or {}).get(SETTINGS_KEY) or "{}")
        spec = function_spec(settings, config_map, to)
        patch = {"metadata": {"resourceVersion": existing["metadata"]["resourceVersion"]}, "spec": spec}
        try:
            await client.patch(function_path(namespace, name), patch)
        except clients.ApiError as exc:
            if exc.status == 409:
                continue
            raise
        return Release(namespace, name, to, tuple(numbers))
    raise Conflicted(f"{namespace}/{name}: the Function changed under every one of {ATTEMPTS} attempts")


async def listing(client: clients.KubeClient, namespace: str | None) -> list[dict[str, Any]]:
    """Every Function (of `namespace`, or of all namespaces): current version, versions, ready replicas."""
    path = function_path(namespace) if namespace else f"/apis/{API_VERSION}/{PLURAL}"
    items = (await client.get(path)).get("items") or []
    found = []
    for item in items:
        meta = item.get("metadata", {})
        ready = None
        try:
            deployment = await client.get(
                f"/apis/apps/v1/namespaces/{meta['namespace']}/deployments/{meta['name']}"
            )
            ready = int((deployment.get("status") or {}).get("readyReplicas") or 0)
        except clients.ApiError as exc:
            if exc.status != 404:  # 404: the operator has not made it yet
                raise
        found.append(
            {
                "function": f"{meta.get('namespace')}/{meta.get('name')}",
                "current": current_version(item),
                "versions": [v["version"] for v in versions_of(item)],
                "ready": ready,
            }
        )
    return sorted(found, key=lambda f: str(f["function"]))


async def delete(client: clients.KubeClient, namespace: str, name: str) -> int:
    """Delete the Function and its versions' ConfigMaps; return how many versions went with it."""
    existing = await _read(client, namespace, name)
    if existing is None:
        raise ReleaseError(f"{namespace}/{name}: no such Function")
    await client.delete(function_path(namespace, name))
    history = versions_of(existing)
    for entry in history:
        try:
            await client.delete(config_map_path(namespace, entry["configMap"]))
        except clients.ApiError as exc:
            if exc.status != 404:
                raise
    return len(history)
