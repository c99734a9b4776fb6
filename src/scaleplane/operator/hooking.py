"""Outbound hooks: every decision goes, as a CloudEvent, to each configured HTTP endpoint.

Never blocks the loop: the loop only `offer`s an event to a bounded queue (a full queue drops the
event and counts it); one worker task delivers, with a timeout per request and bounded retries with
backoff per hook. A hook that is down costs deliveries, never ticks.

Wire format: CloudEvents 1.0 in structured mode (`Content-Type: application/cloudevents+json`), the
body one JSON object (specversion, id, source, type, subject, time, datacontenttype, data). The
signature is `X-Scaleplane-Signature: sha256=<hex HMAC-SHA256 of the exact body bytes with the hook's
secret>`, as GitHub signs its webhooks: a receiver recomputes it over the raw body and compares with
`hmac.compare_digest`.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import hashlib
import hmac
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp

from scaleplane.operator import instruments, settings

log = logging.getLogger(__name__)
SIGNATURE_HEADER = "X-Scaleplane-Signature"
EVENT_TYPE = "io.scaleplane.decision.v1"


def cloud_event(*, source: str, subject: str, data: dict[str, Any], at: float) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": source,
        "type": EVENT_TYPE,
        "subject": subject,
        "time": datetime.datetime.fromtimestamp(at, tz=datetime.UTC).isoformat().replace("+00:00", "Z"),
        "datacontenttype": "application/json",
        "data": data,
    }


def sign(secret: bytes, body: bytes) -> str:
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def verify(secret: bytes, body: bytes, signature: str) -> bool:
    return hmac.compare_digest(sign(secret, body), signature)


@dataclass(frozen=True)
class Hook:
    url: str
    secret: bytes
    timeout: float
    retries: int


class HookDispatcher:
    """A bounded queue of events and one worker delivering them to every hook."""

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
        self.meters = meters
        self.backoff = backoff
        self._sleep = sleep
        self._queue: asyncio.Queue[bytes] = asyncio.Queue(maxsize=queue_size)
        self._worker: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None

    @classmethod
    def from_settings(
        cls, config: settings.OperatorSettings, meters: instruments.Instruments
    ) -> HookDispatcher:
        hooks = [Hook(h.url, config.hook_secret(h), h.timeout, h.retries) for h in config.hooks]
        return cls(hooks, meters, queue_size=config.hook_queue)

    def offer(self, event: dict[str, Any]) -> bool:
        """Queue an event for delivery; False (and counted as dropped) when the queue is full."""
        if not self.hooks:
            return False
        try:
            self._queue.put_nowait(json.dumps(event, separators=(",", ":"), sort_keys=True).encode())
            return True
        except asyncio.QueueFull:
            self.meters.hook_deliveries.labels("dropped").inc(len(self.hooks))
            return False

    def start(self) -> None:
        if self.hooks and self._worker is None:
            self._session = aiohttp.ClientSession()
            self._worker = asyncio.create_task(self._work(), name="scaleplane-hooks")

    async def stop(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
            self._worker = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _work(self) -> None:
        while True:
            body = await self._queue.get()
            await asyncio.gather(*(self._deliver(hook, body) for hook in self.hooks))
            self._queue.task_done()

    async def _deliver(self, hook: Hook, body: bytes) -> None:
        assert self._session is not None
        headers = {"Content-Type": "application/cloudevents+json", SIGNATURE_HEADER: sign(hook.secret, body)}
        delay = self.backoff
        for attempt in range(hook.retries + 1):
            try:
                timeout = aiohttp.ClientTimeout(total=hook.timeout)
                async with self._session.post(hook.url, data=body, headers=headers, timeout=timeout) as rsp:
                    if rsp.status < 300:
                        self.meters.hook_deliveries.labels("delivered").inc()
                        return
                    problem = f"HTTP {rsp.status}"
            except (aiohttp.ClientError, TimeoutError) as exc:
                problem = f"{type(exc).__name__}: {exc}"
            if attempt < hook.retries:
                await self._sleep(delay)
                delay *= 2
        self.meters.hook_deliveries.labels("failed").inc()
        log.warning("hook %s failed after %d attempts: %s", hook.url, hook.retries + 1, problem)
