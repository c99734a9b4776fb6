"""One function as the gateway sees it: its balancer, its cold starts, and the forwarding of a call.

`Route.forward` is a call's path once admitted by the gateway (token, known function, body size):
a slot on the least loaded ready instance, or a wait in the function's queue (at zero the first
queued call wakes it), then POST <instance>/invoke. Its answers, all JSON:

    the function's own status and body           it ran
    429 QueueFull (Retry-After: 1)                `maxQueue` calls already wait: it did not run
    504 NoInstance                                no instance was ready within the wait: it did not run
    504 TimedOut                                  no answer within `timeoutSeconds`: it may have run
    502 Unreachable                               the connection broke after sending: it may have run

A connection refused (the instance went away between two route reads) is the one retry here: the
function never saw the call, so it goes to another instance and the refusing one rests for
`REST_SECONDS` (the route table may still list it while it restarts).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import aiohttp
from aiohttp import web

from scaleplane.functions import instruments, routes
from scaleplane.functions.gateway import balancing, settings, waking

log = logging.getLogger("scaleplane.gateway")
CONNECT_RETRIES = 2
REST_SECONDS = 2.0  # an instance that refused a connection gets no call for this long


def error(status: int, code: str, message: str, **headers: str) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message}}, status=status, headers=headers)


class Route:
    """One function as the gateway sees it: its balancer and its cold-start bookkeeping."""

    def __init__(
        self,
        key: routes.FunctionKey,
        limits: settings.Limits,
        meters: instruments.GatewayMeters,
        wake: Callable[[], None],
    ) -> None:
        self.key = key
        self.limits = limits
        self.meters = meters
        self._wake = wake
        self.balancer = balancing.Balancer(
            max_queue=limits.max_queue, concurrency_limit=limits.concurrency_limit, on_cold=self._cold
        )
        self.cold_since: float | None = None
        self.last_wake = 0.0

    def _cold(self) -> None:
        self.cold_since = time.monotonic()
        self.meters.cold_starts.labels(*self._labels).inc()
        self.wake()

    def wake(self) -> None:
        self.last_wake = time.monotonic()
        self._wake()

    @property
    def _labels(self) -> tuple[str, str]:
        return (self.key.namespace, self.key.name)

    def update(self, urls: list[str]) -> None:
        self.balancer.set_endpoints(urls)
        self.meters.ready.labels(*self._labels).set(len(urls))
        if urls and self.cold_since is not None:
            self.meters.cold_seconds.labels(*self._labels).observe(time.monotonic() - self.cold_since)
            self.cold_since = None

    def tick(self) -> None:
        """Repeat the wake while calls wait at zero (a lost signal costs one repeat, not the call)."""
        if (
            self.balancer.ready == 0
            and self.balancer.queued
            and time.monotonic() - self.last_wake > waking.REPEAT_SECONDS
        ):
            self.wake()
        if self.balancer.queued and self.balancer.ready:
            self.balancer.nudge()
        self.meters.queued.labels(*self._labels).set(self.balancer.queued)
        self.meters.inflight.labels(*self._labels).set(self.balancer.inflight)

    async def forward(self, session: aiohttp.ClientSession, body: bytes, started: float) -> web.Response:
        """A slot on an instance (or a queued wait), the call, its answer; errors as JSON responses."""
        limits = self.limits
        labels = self._labels
        last = ""
        for attempt in range(CONNECT_RETRIES + 1):
            remaining = limits.timeout_seconds - (time.monotonic() - started)
            wait = min(limits.queue_wait_seconds, max(remaining, 0.001))
            try:
                slot = await self.balancer.admit(wait)
            except balancing.QueueFull:
                self.meters.errors.labels(*labels, "QueueFull").inc()
                return error(
                    429,
                    "QueueFull",
                    f"{self.key}: {limits.max_queue} calls are already waiting",
                    **{"Retry-After": "1"},
                )
            except balancing.TimedOut:
                self.meters.errors.labels(*labels, "TimedOut").inc()
                return error(
                    504,
                    "NoInstance",
                    f"{self.key}: no instance was ready within {wait:g} s",
                )
            self.tick()
            try:
                response = await _send(
                    session, slot, body, limits.timeout_seconds - (time.monotonic() - started)
                )
                if response.status >= 500:
                    self.meters.errors.labels(*labels, "HandlerError").inc()
                return response
            except aiohttp.ClientConnectorError as exc:  # refused: the function never saw the call
                log.info(
                    "%s: %s refused the call (%s); attempt %d", self.key, slot.instance.url, exc, attempt + 1
                )
                self.balancer.rest(slot.instance.url, REST_SECONDS)
                last = f"{slot.instance.url} refused the connection"
            except TimeoutError:
                self.meters.errors.labels(*labels, "TimedOut").inc()
                return error(504, "TimedOut", f"{self.key}: no answer within {limits.timeout_seconds:g} s")
            except aiohttp.ClientError as exc:
                self.meters.errors.labels(*labels, "Unreachable").inc()
                return error(
                    502,
                    "Unreachable",
                    f"{self.key}: the instance broke the call off ({exc}); it may have run",
                )
            finally:
                slot.release()
                self.tick()
        self.meters.errors.labels(*labels, "Unreachable").inc()
        return error(502, "Unreachable", f"{self.key}: {last}")


async def _send(
    session: aiohttp.ClientSession, slot: balancing.Slot, body: bytes, remaining: float
) -> web.Response:
    timeout = aiohttp.ClientTimeout(total=max(remaining, 0.001))
    headers = {"Content-Type": "application/json"}
    async with session.post(
        f"{slot.instance.url}/invoke", data=body, headers=headers, timeout=timeout
    ) as answer:
        payload = await answer.read()
        status = answer.status
    headers = {"Content-Type": "application/json"}
    if slot.cold:
        headers["X-Scaleplane-Cold-Start"] = f"{slot.waited:.3f}"
    return web.Response(body=payload, status=status, headers=headers)
