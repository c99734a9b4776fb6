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
the operator's format and model (`SCALEPLANE_HOOKS`, a JSON list of {url, secret | secretEnv, timeout,
retries}: `Hook`, which the operator's settings read too); a hook whose secret cannot be had is
refused when it is read (an unsigned hook is never sent).
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
from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any

import aiohttp
import tenacity
from cloudevents.core.bindings import http as ce_http
from cloudevents.core.v1.event import CloudEvent
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

log = logging.getLogger(__name__)
SIGNATURE_HEADER = "X-Scaleplane-Signature"
PREFIX = "io.scaleplane.function"
HOOKS_ENV = "SCALEPLANE_HOOKS"


class Hook(BaseModel):
    """One outbound hook, as `SCALEPLANE_HOOKS` lists it for the operator and the gateway alike."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)

    url: Annotated[str, Field(pattern=r"^https?://")]
    secret: str = ""
    secret_env: str | None = Field(default=None, alias="secretEnv")
    timeout: Annotated[float, Field(gt=0, le=60)] = 2.0
    retries: Annotated[int, Field(ge=0, le=10)] = 3

    def key(self, environ: Mapping[str, str] | None = None) -> bytes:
        """The signing key; a ValueError saying why there is none (an unsigned hook is never sent:
        `signing_keys` asks every hook when the hooks are read)."""
        env = os.environ if environ is None else environ
        if self.secret and self.secret_env:
            raise ValueError("give secret or secretEnv, not both")
        if self.secret_env:
            secret = env.get(self.secret_env, "")
            if not secret:
                state = "is empty" if self.secret_env in env else "is not set"
                raise ValueError(f"secretEnv {self.secret_env} {state}; a hook must be signed")
            return secret.encode()
        if not self.secret:
            raise ValueError("no secret and no secretEnv; a hook must be signed")
        return self.secret.encode()


def hooks_from_env(environ: Mapping[str, str] | None = None) -> tuple[Hook, ...]:
    """`SCALEPLANE_HOOKS` (the operator's variable and format), or a ValueError naming it (and the hook)."""
    env = os.environ if environ is None else environ
    raw = env.get(HOOKS_ENV, "").strip()
    if not raw:
        return ()
    try:
        hooks = tuple(TypeAdapter(list[Hook]).validate_json(raw))
    except ValueError as exc:
        raise ValueError(f"{HOOKS_ENV}: not a JSON list of hooks {{url, secret|secretEnv}}: {exc}") from None
    signing_keys(hooks, env)
    return hooks


def signing_keys(
    hooks: Sequence[Hook],
    environ: Mapping[str, str] | None = None,
    *,
    named: Callable[[int], str] = lambda index: f"{HOOKS_ENV}[{index}]",
) -> tuple[bytes, ...]:
    """Each hook's signing key, in order; a ValueError `NAME (url): why` for the first without one.

    Every reader of hooks calls it when it reads them (the operator's settings, `hooks_from_env`, the
    gateway's settings file), so an unsigned hook is refused at start, never at its first event.
    """
    keys = []
    for index, hook in enumerate(hooks):
        try:
            keys.append(hook.key(environ))
        except ValueError as exc:
            raise ValueError(f"{named(index)} ({hook.url}): {exc}") from None
    return tuple(keys)


def sign(key: bytes, body: bytes) -> str:
    """`sha256=<hex HMAC-SHA256 of the exact body bytes>`, as GitHub signs its webhooks."""
    return "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()


def verify(key: bytes, body: bytes, signature: str) -> bool:
    """What a receiver does: recompute the signature over the raw body, compare in constant time."""
    return hmac.compare_digest(sign(key, body), signature)


def encode(kind: str, source: str, subject: str, data: dict[str, Any]) -> tuple[dict[str, str], bytes]:
    """One structured-mode CloudEvent: its HTTP headers and body."""
    event = CloudEvent({"type": f"{PREFIX}.{kind}.v1", "source": source, "subject": subject}, data)
    message = ce_http.to_structured_event(event)
    return dict(message.headers), bytes(message.body)


class Announcer:
    def __init__(self, hooks: tuple[Hook, ...], *, source: str, queue_size: int = 1000) -> None:
        self.hooks = hooks
        self._keys = dict(zip(hooks, signing_keys(hooks), strict=True))  # checked when the hooks were read
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
        signed = {**headers, SIGNATURE_HEADER: sign(self._keys[hook], body)}
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
