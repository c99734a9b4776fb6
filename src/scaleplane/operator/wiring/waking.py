"""Wake a Function at zero the moment the gateway asks, not at the next tick.

The gateway (functions.gateway.cluster.KubernetesWaker) sets the Function's annotation
`scaleplane.io/wake-requested-at` to the Unix time of a call queued at zero. This raw event handler
(no finalizer, no progress annotations, so it costs the Function nothing) sees the new value and, when
the request is fresh (under `FRESH_SECONDS` old; an old annotation seen after an operator restart is
ignored):

- marks the Function's ScalingPolicy active from now (the engine's `lastActiveAt`), so the loop does not
  take the new replica away before Prometheus shows the calls waiting; the mark is applied again one
  tick later, in case a tick that started before the wake writes back its older state;
- if the Deployment is at 0 replicas, scales it to the policy's wake count (max(1, minReplicas), as
  KEDA does) through the policy's own target, posts a `Woken` Event and offers an
  `io.scaleplane.function.woken.v1` CloudEvent to the operator's hooks.

Everything else stays with the loop: the policy scales on from there on the gateway's series.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from typing import Any

import kopf

from scaleplane.control import policies
from scaleplane.operator.records import hooking
from scaleplane.operator.wiring import runtime
from scaleplane.scaling.deciding import activation

FUNCTIONS = ("scaleplane.io", "v1alpha1", "functions")
WAKE_ANNOTATION = "scaleplane.io/wake-requested-at"
FRESH_SECONDS = 60.0
WOKEN_EVENT = "io.scaleplane.function.woken.v1"


def wake_requested(annotations: kopf.Annotations, **_: Any) -> bool:
    return WAKE_ANNOTATION in annotations


async def wake(event: kopf.RawEvent, body: kopf.Body, memo: kopf.Memo, logger: kopf.Logger, **_: Any) -> None:
    if event.get("type") == "DELETED" or "scaleplane" not in memo:
        return
    meta = body.get("metadata") or {}
    key = policies.PolicyKey(meta.get("namespace") or "default", meta["name"])
    value = str((meta.get("annotations") or {}).get(WAKE_ANNOTATION, ""))
    seen: dict[policies.PolicyKey, str] = memo.setdefault("scaleplane_wakes", {})
    if seen.get(key) == value:
        return
    seen[key] = value
    try:
        asked_at = float(value)
    except ValueError:
        logger.warning(f"{WAKE_ANNOTATION}={value!r} is not a Unix time; ignored")
        return
    now = time.time()
    if now - asked_at > FRESH_SECONDS:
        return
    rt: runtime.Runtime = memo["scaleplane"]
    entry = rt.registry.entries.get(key)
    if entry is None:
        logger.warning(f"wake requested for {key}, but its ScalingPolicy is not known (yet)")
        return
    _mark_active(entry.managed, now)
    asyncio.get_running_loop().call_later(rt.config.tick_seconds, _mark_active, entry.managed, now)
    count = await entry.managed.target.read()
    if count.current > 0:
        return
    replicas = activation.wake_count(entry.managed.spec, None)
    await entry.managed.target.scale(replicas)
    logger.info(f"woken by the gateway: 0 -> {replicas} ({now - asked_at:.2f} s after the request)")
    kopf.info(body, reason="Woken", message=f"a call waits at the gateway: 0 -> {replicas} replicas")
    woken = hooking.cloud_event(
        source=f"/apis/scaleplane.io/v1alpha1/namespaces/{key.namespace}/functions/{key.name}",
        subject=str(key),
        data={"function": str(key), "from": 0, "to": replicas, "requestedAt": asked_at},
        at=now,
        event_type=WOKEN_EVENT,
    )
    rt.hooks.offer(woken)  # the operator's hooks, as its decisions go


def _mark_active(managed: policies.ManagedPolicy, at: float) -> None:
    if (managed.state.last_active_at or 0.0) < at:
        managed.state = dataclasses.replace(managed.state, last_active_at=at)
