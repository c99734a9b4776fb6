"""Outbound hooks: what changed in a policy goes, as a CloudEvent, to each configured HTTP endpoint.

What is offered (operator.records.recording decides): a scale, a new or changed error, a condition that
changed (status or reason). A steady decision is not an event: at 10,000 policies every tick would
otherwise offer 10,000 events that say nothing new.

Never blocks the loop, and one hook never delays another: each hook has its own bounded queue and
its own worker task. The loop only `offer`s; a hook whose queue is full drops the event and counts it
(`hook_deliveries_total{result="dropped"}`). A worker delivers with a timeout per request and bounded
retries with backoff (control.retrying, the project's one retry mechanism). A hook that is slow or
down costs its own deliveries, never ticks and never the other hooks.

Wire format: CloudEvents 1.0 in structured mode, written by the CloudEvents SDK (`cloudevents`):
`Content-Type: application/cloudevents+json`, the body one JSON object (specversion, id, source,
type, subject, time, datacontenttype, data). The signature is `X-Scaleplane-Signature: sha256=<hex
HMAC-SHA256 of the exact body bytes with the hook's secret>`, as GitHub signs its webhooks: a receiver
recomputes it over the raw body and compares with `hmac.compare_digest`. functions.announcing signs the
functions' events the same way, from the same hook settings (`announcing.Hook`): one receiver takes
both. A hook whose secret cannot be resolved is refused at start (operator.wiring.settings), never sent
unsigned or signed with an empty key.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
from cloudevents.core.bindings import http as ce_http
from cloudevents.core.v1 import event as ce_event

from scaleplane.control import retrying
from scaleplane.functions import announcing
from scaleplane.operator.records import instruments
from scaleplane.operator.wiring import settings
from scaleplane.targets import protocol

log = logging.getLogger(__name__)
EVENT_TYPE = "io.scaleplane.decision.v1"


def cloud_event(
    *, source: str, subject: str, data: dict[str, Any], at: float, event_type: str = EVENT_TYPE
) -> ce_event.CloudEvent:
    return ce_event.CloudEvent(
        {
            "source": source,
            "type": event_type,
            "subject": subject,
            "time": datetime.datetime.fromtimestamp(at, tz=datetime.UTC),
            "datacontenttype": "application/json",
        },
        data,
    )


def encode(event: ce_event.CloudEvent) -> bytes:
    """The structured-mode body: the bytes that are signed and sent."""
    return ce_http.to_structured_event(event).body


@dataclass(frozen=True)
class Hook:
    url: str
    secret: bytes
    timeout: float
    retries: int


class HookWorker:
    """One hook's queue and the task that drains it."""

    def __init__(
        self,
        hook: Hook,
        meters: instruments.Instruments,
        *,
        queue_size: int,
        backoff: float,
        sleep: Callable[[float], Awaitable[None]],
    ) -> None:
        self.hook = hook
        self.meters = meters
        self.backoff = retrying.Backoff(retries=hook.retries, initial=backoff, cap=max(backoff, 2.0))
        self.queue: asyncio.Queue[bytes] = asyncio.Queue(maxsize=queue_size)
        self._sleep = sleep
        self._slot = asyncio.Semaphore(1)
        self._task: asyncio.Task[None] | None = None

    def offer(self, body: bytes) -> bool:
        try:
            self.queue.put_nowait(body)
            return True
        except asyncio.QueueFull:
            self.meters.hook_deliveries.labels("dropped").inc()
            return False

    def start(self, session: aiohttp.ClientSession) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._work(session), name=f"scaleplane-hook {self.hook.url}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _work(self, session: aiohttp.ClientSession) -> None:
        while True:
            body = await self.queue.get()
            try:
                await retrying.call_with_retries(
                    lambda body=body: self._post(session, body),  # type: ignore[misc]
                    backoff=self.backoff,
                    timeout=self.hook.timeout,
                    slots=self._slot,
                    sleep=self._sleep,
                )
                self.meters.hook_deliveries.labels("delivered").inc()
            except protocol.TargetError as exc:
                self.meters.hook_deliveries.labels("failed").inc()
                log.warning("hook %s failed: %s", self.hook.url, exc)
            finally:
                self.queue.task_done()

    async def _post(self, session: aiohttp.ClientSession, body: bytes) -> None:
        headers = {
            "Content-Type": "application/cloudevents+json",
            announcing.SIGNATURE_HEADER: announcing.sign(self.hook.secret, body),
        }
        try:
            async with session.post(self.hook.url, data=body, headers=headers) as rsp:
                if rsp.status >= 300:
                    # A receiver's 4xx will not heal by itself, except 408 and 429 (come back later).
                    retryable = rsp.status >= 500 or rsp.status in (408, 429)
                    raise protocol.TargetError(f"HTTP {rsp.status}", retryable=retryable)
        except aiohttp.ClientError as exc:
            raise protocol.TargetError(f"{type(exc).__name__}: {exc}", retryable=True) from exc


class HookDispatcher:
    """One HookWorker per hook; `offer` encodes an event once and queues it for every hook."""

    def __init__(
        self,
        hooks: list[Hook],
        meters: instruments.Instruments,
        *,
        queue_size: int = 1000,
        backoff: float = 0.2,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.hooks = hooks
        self.workers = [
            HookWorker(h, meters, queue_size=queue_size, backoff=backoff, sleep=sleep) for h in hooks
        ]
        self._session: aiohttp.ClientSession | None = None

    @classmethod
    def from_settings(
        cls, config: settings.OperatorSettings, meters: instruments.Instruments
    ) -> HookDispatcher:
        """Raises SettingsError for a hook whose secret cannot be resolved."""
        keys = config.hook_keys()
        hooks = [Hook(h.url, key, h.timeout, h.retries) for h, key in zip(config.hooks, keys, strict=True)]
        return cls(hooks, meters, queue_size=config.hook_queue)

    def offer(self, event: ce_event.CloudEvent) -> bool:
        """Queue an event for every hook; False when some hook's queue was full (that one dropped it)."""
        if not self.workers:
            return False
        body = encode(event)
        return all([worker.offer(body) for worker in self.workers])

    def start(self) -> None:
        if self.workers and self._session is None:
            self._session = aiohttp.ClientSession()
            for worker in self.workers:
                worker.start(self._session)

    async def stop(self) -> None:
        for worker in self.workers:
            await worker.stop()
        if self._session is not None:
            await self._session.close()
            self._session = None
