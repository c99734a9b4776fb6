"""Kubernetes Events from the loop, posted with the operator's own client, aggregated as Kubernetes does.

kopf's `kopf.info/warn` work only inside kopf's handlers (they need its event queue, set up per
handler context); the loop is a task of ours, so it posts `v1` Events itself, in the same shape
kopf and kubectl use (involvedObject, reason, message, type, source, timestamps), retried briefly by
`control.retrying` like every other write.

Aggregation, as client-go's event recorder does it: an Event that repeats (same object, type, reason
and message) is not posted again; the existing Event's `count` and `lastTimestamp` are updated
(`kubectl describe` then shows "x12 over 3m"). To keep a flood of repeats off the API server, a
repeat is counted in memory and written at most once per `interval` per Event (`flush` writes what
is due; the recorder calls it every tick). The cache holds the last 4,096 Events (client-go's size);
an Event older than 50 minutes is posted anew (API servers delete Events after an hour by default),
and so is one the API no longer has (404 on the update). Written here because no Python Kubernetes
client ships client-go's EventCorrelator: kopf, kubernetes_asyncio and lightkube post Events as given.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from scaleplane.control import retrying
from scaleplane.kube import clients

log = logging.getLogger(__name__)
COMPONENT = "scaleplane-operator"
CACHE_SIZE = 4096
FRESH_FOR = 3000.0  # seconds an Event is updated rather than posted anew (the API keeps it 3600 s)


def _stamp(at: float) -> str:
    return datetime.datetime.fromtimestamp(at, tz=datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def event_body(ref: dict[str, Any], *, kind: str, reason: str, message: str, at: float) -> dict[str, Any]:
    meta = ref.get("metadata") or {}
    stamp = _stamp(at)
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


@dataclass
class _Series:
    """One Event on the API server and the repeats it stands for."""

    ref: dict[str, Any]  # the involved object, to post the Event anew if it is gone
    namespace: str
    name: str
    first_at: float
    count: int = 1  # occurrences so far
    written: int = 1  # the count the API server has
    written_at: float = 0.0


Key = tuple[str, str, str, str, str]


class EventPoster:
    """Posts Events; repeats update the first one's count (see the module docstring)."""

    def __init__(
        self,
        api: clients.KubeClient,
        *,
        interval: float = 180.0,
        concurrency: int = 16,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.api = api
        self._sleep = sleep
        self.interval = interval
        self._series: OrderedDict[Key, _Series] = OrderedDict()
        self._slots = asyncio.Semaphore(concurrency)
        self.can_update = True  # False once the API forbade an update (RBAC without `patch` on events)

    async def post(self, ref: dict[str, Any], *, kind: str, reason: str, message: str, at: float) -> bool:
        """Post (or count) one occurrence; False (logged) when the API refused what had to be written."""
        meta = ref.get("metadata") or {}
        namespace = meta.get("namespace") or "default"
        key = (namespace, str(meta.get("uid") or meta.get("name")), kind, reason, message[:1024])
        series = self._series.get(key)
        if series is not None and at - series.first_at < FRESH_FOR:
            series.count += 1
            self._series.move_to_end(key)
            if at - series.written_at < self.interval or not self.can_update:
                return True  # counted; `flush` writes it when due
            return await self._update(key, series, at)
        self._series.pop(key, None)
        return await self._create(key, ref, kind=kind, reason=reason, message=message, at=at)

    async def flush(self, at: float) -> None:
        """Write the counts of repeats that are due (counted, unwritten, last written >= interval ago)."""
        due = [
            (key, series)
            for key, series in self._series.items()
            if series.count > series.written and at - series.written_at >= self.interval and self.can_update
        ]
        await asyncio.gather(*(self._update(key, series, at) for key, series in due))

    async def _create(
        self,
        key: Key,
        ref: dict[str, Any],
        *,
        kind: str,
        reason: str,
        message: str,
        at: float,
        count: int = 1,
    ) -> bool:
        body = event_body(ref, kind=kind, reason=reason, message=message, at=at)
        body["count"] = count
        try:
            async with self._slots:
                created = await self._retried(
                    lambda: self.api.create(f"/api/v1/namespaces/{key[0]}/events", body)
                )
        except clients.ApiError as exc:
            log.warning("cannot post the %s event %s: %s", kind, reason, exc)
            return False
        name = (created or {}).get("metadata", {}).get("name") if isinstance(created, dict) else None
        if name:  # without a name to update, every repeat is posted anew
            self._series[key] = _Series(ref, key[0], str(name), at, count, count, at)
            while len(self._series) > CACHE_SIZE:
                self._series.popitem(last=False)
        return True

    async def _update(self, key: Key, series: _Series, at: float) -> bool:
        path = f"/api/v1/namespaces/{series.namespace}/events/{series.name}"
        try:
            async with self._slots:
                patch = {"count": series.count, "lastTimestamp": _stamp(at)}
                await self._retried(lambda: self.api.patch(path, patch))
        except clients.ApiError as exc:
            if exc.status == 403:  # said once: repeats are still counted, no longer written
                self.can_update = False
                log.warning("not allowed to update Events (RBAC needs `patch` on events): %s", exc)
                return False
            if exc.status != 404:
                log.warning("cannot update the event %s (x%d): %s", key[3], series.count, exc)
                return False
            # Gone (expired or deleted): post it anew, carrying the repeats it had not written yet.
            self._series.pop(key, None)
            unwritten = max(1, series.count - series.written)
            return await self._create(
                key, series.ref, kind=key[2], reason=key[3], message=key[4], at=at, count=unwritten
            )
        series.written, series.written_at = series.count, at
        return True

    async def _retried(self, call: Callable[[], Awaitable[Any]]) -> Any:
        return await retrying.run(
            call, backoff=BACKOFF, retryable=retrying.retryable_attribute, sleep=self._sleep
        )
