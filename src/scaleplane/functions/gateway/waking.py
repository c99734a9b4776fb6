"""How the gateway wakes a function at zero: a signal to whatever scales it, sent the moment a call queues.

Knative's activator does not wait for the autoscaler's next scrape: it pokes the autoscaler with the
request it holds. Here a `Waker` is that poke, one per home:

    HttpWaker        POST <url>/v1/wake/<namespace>/<name>: the local platform's wake endpoint
                     (local.functionhome), which scales the function's pool to its wake count at once
    NullWaker        nothing to poke: the function's policy wakes it on the next tick from the series

A wake is sent in the background and never fails a call: the queued call still waits for an instance
(up to its bounded wait) and the policy wakes the function from the queued-requests series anyway.
While calls stay queued at zero the gateway repeats the wake every `REPEAT_SECONDS`, so a lost
signal (the platform restarting) costs one repeat, not the call.
"""

from __future__ import annotations

import logging
from typing import Protocol

import aiohttp

from scaleplane.functions import routes

log = logging.getLogger(__name__)
REPEAT_SECONDS = 2.0


class Waker(Protocol):
    async def wake(self, key: routes.FunctionKey) -> None: ...

    async def close(self) -> None: ...


class NullWaker:
    async def wake(self, key: routes.FunctionKey) -> None:
        return None

    async def close(self) -> None:
        return None


class HttpWaker:
    def __init__(self, url: str, *, token: str | None = None, timeout: float = 2.0) -> None:
        self.url = url.rstrip("/")
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    async def wake(self, key: routes.FunctionKey) -> None:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self.timeout, headers=self.headers)
        url = f"{self.url}/v1/wake/{key.namespace}/{key.name}"
        try:
            async with self._session.post(url) as response:
                if response.status >= 300:
                    log.warning(
                        "wake %s: %s answered %d: %s", key, url, response.status, await response.text()
                    )
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.warning(
                "wake %s: %s unreachable (%s); the policy will wake it from the series", key, url, exc
            )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
