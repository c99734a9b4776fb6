"""`scaleplane fn logs NAMESPACE/NAME --cluster`: the logs of a Function's instance pods.

The pods are the ones the operator's Deployment for the Function selects: label
`scaleplane.io/function=NAME` in the Function's namespace (operator.manifests.functions). Each pod's log comes
from the pods log API (`GET /api/v1/namespaces/NS/pods/POD/log`, with `tailLines` and `sinceSeconds`
as `kubectl logs` sends them), read whole and prefixed with the pod's name line by line, the way
`kubectl logs --prefix` does. The Function is read first, so a name that does not exist is told apart
from a Function at zero (no pods, which is normal). Pods are read one by one, in name order: a pod that
goes away between the listing and its log (scaled down, replaced by a rollout) is reported as gone and
the others are still shown. `follow` streams them all at once (`follow=true`) as `kubectl logs -f`
does. What else fails stays `kube.clients.ApiError` for the CLI to explain.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from scaleplane.kube import clients
from scaleplane.operator.manifests import functions
from scaleplane.operator.releases import releasing


@dataclass(frozen=True)
class PodLog:
    pod: str
    phase: str
    lines: tuple[str, ...] = ()
    gone: bool = False  # deleted between the listing and the read


@dataclass(frozen=True)
class InstanceLogs:
    function: str
    selector: str
    pods: list[PodLog] = field(default_factory=list)


def pods_path(namespace: str) -> str:
    return clients.resource_path("v1", "pods", namespace)


def log_params(tail_lines: int | None, since_seconds: int | None) -> dict[str, str]:
    params: dict[str, str] = {}
    if tail_lines is not None:
        params["tailLines"] = str(tail_lines)
    if since_seconds is not None:
        params["sinceSeconds"] = str(since_seconds)
    return params


async def instance_pods(client: clients.KubeClient, namespace: str, name: str) -> tuple[str, list[Any]]:
    """The Function's label selector and its pods, in name order; `ReleaseError` when it does not exist."""
    try:
        await client.get(releasing.function_path(namespace, name))
    except clients.ApiError as exc:
        if exc.status == 404:
            raise releasing.ReleaseError(
                f"no such Function {namespace}/{name} in the cluster (scaleplane fn list --cluster)"
            ) from None
        raise
    selector = f"{functions.FUNCTION_LABEL}={name}"
    listing = await client.get(pods_path(namespace), params={"labelSelector": selector})
    pods = sorted(
        (item for item in listing.get("items") or () if isinstance(item, dict)),
        key=lambda pod: str(pod.get("metadata", {}).get("name", "")),
    )
    return selector, pods


async def instance_logs(
    client: clients.KubeClient,
    namespace: str,
    name: str,
    *,
    tail_lines: int | None = None,
    since_seconds: int | None = None,
) -> InstanceLogs:
    """Every instance pod's log lines; `ReleaseError` when the Function does not exist."""
    selector, pods = await instance_pods(client, namespace, name)
    found = InstanceLogs(f"{namespace}/{name}", selector)
    params = log_params(tail_lines, since_seconds)
    for pod in pods:
        found.pods.append(await _pod_log(client, namespace, pod, params))
    return found


async def _pod_log(
    client: clients.KubeClient, namespace: str, pod: dict[str, Any], params: dict[str, str]
) -> PodLog:
    pod_name = str(pod.get("metadata", {}).get("name", ""))
    phase = str((pod.get("status") or {}).get("phase") or "Unknown")
    try:
        text = await client.get_text(f"{pods_path(namespace)}/{pod_name}/log", params=params)
    except clients.ApiError as exc:
        if exc.status == 404:
            return PodLog(pod_name, phase, gone=True)
        if exc.status == 400 and phase == "Pending":  # "container ... is waiting to start"
            return PodLog(pod_name, phase)
        raise
    return PodLog(pod_name, phase, tuple(text.splitlines()))


async def follow(
    client: clients.KubeClient,
    namespace: str,
    name: str,
    emit: Callable[[str, str], None],
    *,
    tail_lines: int | None = None,
    since_seconds: int | None = None,
) -> InstanceLogs:
    """Stream every instance pod's log at once (`follow=true`), calling `emit(pod, line)` as lines
    arrive, until every stream ends (its pod stopped) or the caller is interrupted. The pods are the
    ones running when it starts, as with `kubectl logs -f -l`; a pod gone before its stream opens is
    reported gone. Returns the pods it followed."""
    selector, listed = await instance_pods(client, namespace, name)
    params = {**log_params(tail_lines, since_seconds), "follow": "true"}
    names = [str(pod.get("metadata", {}).get("name", "")) for pod in listed]
    gone: set[str] = set()

    async def one(pod: str) -> None:
        try:
            async for line in client.stream_lines(f"{pods_path(namespace)}/{pod}/log", params=params):
                emit(pod, line)
        except clients.ApiError as exc:
            if exc.status != 404:
                raise
            gone.add(pod)

    await asyncio.gather(*(one(pod) for pod in names))
    phases = [str((pod.get("status") or {}).get("phase") or "Unknown") for pod in listed]
    pods = [PodLog(pod, phase, gone=pod in gone) for pod, phase in zip(names, phases, strict=True)]
    return InstanceLogs(f"{namespace}/{name}", selector, pods)
