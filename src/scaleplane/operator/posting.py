"""Kubernetes Events from the loop, posted with the operator's own client.

kopf's `kopf.info/warn` work only inside kopf's handlers (they need its event queue, set up per
handler context); the loop is a task of ours, so it posts `v1` Events itself, in the same shape
kopf and kubectl use (involvedObject, reason, message, type, source, timestamps), retried by
`control.retrying` like every other write.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from scaleplane.control import retrying
from scaleplane.kube import clients

log = logging.getLogger(__name__)
COMPONENT = "scaleplane-operator"


def event_body(ref: dict[str, Any], *, kind: str, reason: str, message: str, at: float) -> dict[str, Any]:
    meta = ref.get("metadata") or {}
    stamp = datetime.datetime.fromtimestamp(at, tz=datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"generateName": "scaleplane-", "namespace": meta.get("namespace")},
        "involvedObject": {
            "apiVersion": ref.get("apiVersion"),
            "kind": ref.get("kind"),
            "name": meta.get("name"),
            "namespace": meta.get("namespace"),
            "uid": meta.get("uid"),
        },
        "type": kind,
        "reason": reason,
        "message": message[:1024],  # the API server refuses messages over 1 KiB
        "source": {"component": COMPONENT},
        "reportingComponent": COMPONENT,
        "firstTimestamp": stamp,
        "lastTimestamp": stamp,
        "count": 1,
    }


# Events are best effort: fewer and shorter retries than status (0.2 s, 0.4 s), so a struggling API
# server is not asked twice as hard for what only a person reads.
BACKOFF = retrying.Backoff(retries=2, initial=0.2)


async def post(
    api: clients.KubeClient,
    ref: dict[str, Any],
    *,
    kind: str,
    reason: str,
    message: str,
    at: float,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> bool:
    """Post one Event, retrying 429/5xx/timeouts briefly; False (logged) when it could not be posted."""
    namespace = (ref.get("metadata") or {}).get("namespace") or "default"
    body = event_body(ref, kind=kind, reason=reason, message=message, at=at)
    try:
        await retrying.run(
            lambda: api.create(f"/api/v1/namespaces/{namespace}/events", body),
            backoff=BACKOFF,
            retryable=retrying.retryable_attribute,
            sleep=sleep,
        )
        return True
    except clients.ApiError as exc:
        log.warning("cannot post the %s event %s: %s", kind, reason, exc)
        return False
