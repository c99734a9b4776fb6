"""Function events as CloudEvents to outbound hooks: failed invocations, deploys, rollbacks, scaling.

    io.scaleplane.function.invocation.failed.v1   the gateway: a call answered 5xx or 429 (data: function,
                                                  status, code, message, durationSeconds)
    io.scaleplane.function.deployed.v1            the local platform: a version became current by deploy
    io.scaleplane.function.rolledback.v1          ... by rollback (data: function, version, previous)
    io.scaleplane.function.deleted.v1             ... the function left the catalog
    io.scaleplane.function.scaled.v1              ... its pool was asked for another count (from, to)
    io.scaleplane.function.woken.v1               the operator: a Function woken from zero by the gateway

The events are built and encoded by the CloudEvents SDK (`cloudevents`, structured JSON mode,
`Content-Type: application/cloudevents+json`) and signed as the operator's hooks are
(`X-Scaleplane-Signature: sha256=<HMAC-SHA256 of the body>`), so one receiver takes both. Hooks are
the operator's format (`SCALEPLANE_HOOKS`, a JSON list of {url, secret | secretEnv, timeout, retries});
as there, a hook without a secret is refused when it is read (an unsigned hook is never sent).
Delivery never slows a call: `offer` puts the event in a bounded queue (full: dropped and counted),
one worker posts it to each hook with retries (tenacity, exponential back-off).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import os
from typing import Annotated, Any

import aiohttp
import tenacity
from cloudevents.core.bindings import http as ce_http
from cloudevents.core.v1.event import CloudEvent
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator

log = logging.getLogger(__name__)
SIGNATURE_HEADER = "X-Scaleplane-Signature"
PREFIX = "io.scaleplane.function"
HOOKS_ENV = "SCALEPLANE_HOOKS"


class Hook(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)

    url: Annotated[str, Field(pattern=r"^https?://")]
    secret: str = ""
    secret_env: str | None = Field(default=None, alias="secretEnv")
    timeout: Annotated[float, Field(gt=0, le=60)] = 2.0
    retries: Annotated[int, Field(ge=0, le=10)] = 3

    @model_validator(mode="after")
    def _signed(self) -> Hook:
        # As the operator's hooks: an unsigned hook is never sent, so one is refused when it is read.
        if self.secret and self.secret_env:
            raise ValueError(f"hook {self.url}: give secret or secretEnv, not both")
        if not self.secret and not self.secret_env:
            raise ValueError(f"hook {self.url}: needs secret or secretEnv (an unsigned hook is never sent)")
        if self.secret_env and not os.environ.get(self.secret_env):
            raise ValueError(f"hook {self.url}: secretEnv {self.secret_env} is not set or empty")
        return self

    def key(self) -> bytes:
        return (os.environ.get(self.secret_env, "") if self.secret_env else self.secret).encode()


def hooks_from_env(environ: dict[str, str] | None = None) -> tuple[Hook, ...]:
    """`SCALEPLANE_HOOKS` (the operator's variable and format), or a ValueError naming it."""
    raw = (environ if environ is not None else dict(os.environ)).get(HOOKS_ENV, "").strip()
    if not raw:
        return ()
    try:
        return tuple(TypeAdapter(list[Hook]).validate_json(raw))
    except ValueError as exc:
        raise ValueError(f"{HOOKS_ENV}: not a JSON list of hooks {{url, secret|secretEnv}}: {exc}") from None


def sign(key: bytes, body: bytes) -> str:
    return "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()


def encode(kind: str, source: str, subject: str, data: dict[str, Any]) -> tuple[dict[str, str], bytes]:
    """One structured-mode CloudEvent: its HTTP headers and body."""
    event = CloudEvent({"type": f"{PREFIX}.{kind}.v1", "source": source, "subject": subject}, data)
    message = ce_http.to_structured_event(event)
    return dict(message.headers), bytes(message.body)


class Announcer:
    def __init__(self, hooks: tuple[Hook, ...], *, source: str, queue_size: int = 1000) -> None:
        self.hooks = hooks
        self.source = source
        self.queue: asyncio.Queue[tuple[dict[str, str], bytes]] = asyncio.Queue(queue_size)
        self.dropped = 0
        self.delivered = 0
        self._worker: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None

    def offer(self, kind: str, subject: str, data: dict[str, Any]) -> bool:
        if not self.hooks:
            return False
        try:
            self.queue.put_nowait(encode(kind, self.source, subject, data))
        except asyncio.QueueFull:
            self.dropped += 1
            return False
        if self._worker is None:
            self._worker = asyncio.get_running_loop().create_task(self._work())
        return True

    async def _work(self) -> None:
        self._session = aiohttp.ClientSession()
        while True:
            headers, body = await self.queue.get()
            try:
                await asyncio.gather(*(self._deliver(hook, headers, body) for hook in self.hooks))
            finally:
                self.queue.task_done()

    async def _deliver(self, hook: Hook, headers: dict[str, str], body: bytes) -> None:
        assert self._session is not None
        signed = {**headers, SIGNATURE_HEADER: sign(hook.key(), body)}
        try:
            async for attempt in tenacity.AsyncRetrying(
                stop=tenacity.stop_after_attempt(hook.retries + 1),
                wait=tenacity.wait_exponential(multiplier=0.2, max=5),
                reraise=True,
            ):
                with attempt:
                    timeout = aiohttp.ClientTimeout(total=hook.timeout)
                    async with self._session.post(
                        hook.url, data=body, headers=signed, timeout=timeout
                    ) as answer:
                        if answer.status >= 500:
                            raise aiohttp.ClientResponseError(answer.request_info, (), status=answer.status)
            self.delivered += 1
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.warning(
                "hook %s: event not delivered after %d attempt(s): %s", hook.url, hook.retries + 1, exc
            )

    async def close(self, flush_seconds: float = 5.0) -> None:
        """Deliver what is queued (for at most `flush_seconds`), then stop."""
        if self._worker is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.queue.join(), flush_seconds)
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
        if self._session is not None:
            await self._session.close()
