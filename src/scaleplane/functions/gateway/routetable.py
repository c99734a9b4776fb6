"""The gateway's live route table: one `routing.Route` per known function, kept fresh from its source.

    one machine   functions.routes.RouteDirectory: a file per function, a stat each poll; wakes go to the
                  local platform's wake URL (waking.HttpWaker), or nowhere (waking.NullWaker)
    a cluster     gateway.cluster.EndpointSliceRoutes: API calls in a thread every `pollSeconds`; wakes
                  annotate the Function (gateway.cluster.KubernetesWaker)

A function that leaves the source takes no new call at once (404), but its route, balancer and series
stay until the calls it holds have ended, so a call in flight is never orphaned by a re-read.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from scaleplane.functions import instruments, routes
from scaleplane.functions.gateway import routing, settings, waking

log = logging.getLogger("scaleplane.gateway")
POLL_SECONDS = 0.02  # how often the routes tick (cold-start bookkeeping, repeated wakes)


def source_for(config: settings.GatewaySettings) -> tuple[Any, waking.Waker]:
    """The route source and the default waker of the gateway's home (its settings say which)."""
    if config.kubernetes is not None:
        # Imported here: only a cluster's gateway needs the Kubernetes client.
        from scaleplane.functions.gateway import cluster

        api = cluster.api_client(config.kubernetes.server)
        source = cluster.EndpointSliceRoutes(
            api, config.kubernetes.namespaces, poll_seconds=config.kubernetes.poll_seconds
        )
        return source, cluster.KubernetesWaker(api)
    assert config.routes is not None
    waker = waking.HttpWaker(config.wake_url) if config.wake_url else waking.NullWaker()
    return routes.RouteDirectory(config.routes), waker


class RouteTable:
    """The functions the gateway routes to; `wake(key)` is how a route at zero asks for an instance."""

    def __init__(
        self,
        source: Any,
        limits: settings.Limits,
        meters: instruments.GatewayMeters,
        wake: Callable[[routes.FunctionKey], None],
    ) -> None:
        self.source = source
        self.limits = limits
        self.meters = meters
        self._wake = wake
        self.routes: dict[routes.FunctionKey, routing.Route] = {}
        self.gone: set[routes.FunctionKey] = set()

    def get(self, key: routes.FunctionKey) -> routing.Route | None:
        """The route that takes a new call for `key`: None when unknown or gone from the source."""
        return self.routes.get(key) if key not in self.gone else None

    def busy(self) -> bool:
        """Whether any route still holds a call, in flight or queued."""
        return any(r.balancer.inflight or r.balancer.queued for r in self.routes.values())

    def known(self) -> str:
        return ", ".join(map(str, sorted(self.routes))) or "none"

    async def refresh(self) -> None:
        """Read the route table (a file stat per function locally; API calls, in a thread, in a cluster)."""
        if getattr(self.source, "blocking", False):
            table, changed = await asyncio.to_thread(self.source.scan)
        else:
            table, changed = self.source.scan()
        self.gone = set(self.routes) - set(table)
        for key in self.gone:
            if not (self.routes[key].balancer.inflight or self.routes[key].balancer.queued):
                del self.routes[key]
                self.meters.forget(key.namespace, key.name)
        if changed:
            for key, urls in table.items():
                if key not in self.routes:
                    self.routes[key] = routing.Route(key, self.limits, self.meters, self._waker_for(key))
                    self.meters.known(key.namespace, key.name)
                self.routes[key].update(urls)

    def _waker_for(self, key: routes.FunctionKey) -> Callable[[], None]:
        return lambda: self._wake(key)

    async def poll(self) -> None:
        """Forever: re-read the source every its `poll_seconds`, tick every route every POLL_SECONDS."""
        every = getattr(self.source, "poll_seconds", POLL_SECONDS)
        last = 0.0
        while True:
            if time.monotonic() - last >= every:
                last = time.monotonic()
                try:
                    await self.refresh()
                except Exception as exc:  # a bad file, an API error: keep routing with the last table
                    log.warning("reading the routes failed: %s", exc)
            for route in self.routes.values():
                route.tick()
            await asyncio.sleep(POLL_SECONDS)
