"""Which instance takes a call: the ready one with the fewest calls in flight; at zero, a bounded queue.

Per function the gateway keeps its ready instances (as the route table last read them) and, for each,
the calls it forwarded there and has not had an answer for. `admit` picks the least loaded one
(Knative's activator does the same over its ready pods); when there is none, or every one is at
`concurrency_limit`, the call waits in the function's queue:

    queue below max_queue  -> wait until an instance is free or `wait` seconds pass   (TimedOut -> 504)
    queue full             -> QueueFull at once                                      (429)

The first call that queues at zero instances calls `on_cold` (the gateway wakes the function then, not at
the scaler's next tick). Waiters are released in arrival order, one per freed slot.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field


class QueueFull(Exception):
    pass


class TimedOut(Exception):
    pass


@dataclass
class Instance:
    url: str
    inflight: int = 0
    resting_until: float = 0.0  # refused a connection: skipped until then (it may be restarting)


@dataclass
class Slot:
    """A call's place on an instance; `release()` it when the answer is in (or the call failed)."""

    instance: Instance
    balancer: Balancer
    waited: float  # seconds spent queued
    cold: bool  # it waited for the function to wake from zero
    _released: bool = field(default=False, repr=False)

    def release(self) -> None:
        if not self._released:
            self._released = True
            self.balancer._release(self.instance)


class Balancer:
    def __init__(
        self,
        *,
        max_queue: int = 100,
        concurrency_limit: int = 0,
        on_cold: Callable[[], None] = lambda: None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_queue = max_queue
        self.concurrency_limit = concurrency_limit  # 0: no limit per instance (Knative's default)
        self.on_cold = on_cold
        self.clock = clock
        self.instances: dict[str, Instance] = {}
        self.queued = 0
        self.inflight = 0
        self._changed = asyncio.Condition()

    def set_endpoints(self, urls: Iterable[str]) -> None:
        """The ready instances now. A removed instance keeps its calls in flight; new ones take calls."""
        wanted = list(dict.fromkeys(urls))
        self.instances = {url: self.instances.get(url) or Instance(url) for url in wanted}
        self._notify()

    @property
    def ready(self) -> int:
        return len(self.instances)

    def _pick(self) -> Instance | None:
        now = self.clock()
        candidates = [
            i
            for i in self.instances.values()
            if i.resting_until <= now and (not self.concurrency_limit or i.inflight < self.concurrency_limit)
        ]
        return min(candidates, key=lambda i: i.inflight) if candidates else None

    async def admit(self, wait: float) -> Slot:
        instance = self._pick()
        if instance is not None and not self.queued:  # no overtaking of calls already waiting
            return self._take(instance, 0.0, cold=False)
        if self.queued >= self.max_queue:
            raise QueueFull
        cold = not self.instances
        if cold and self.queued == 0:
            self.on_cold()
        started = self.clock()
        self.queued += 1
        try:
            async with self._changed:
                await asyncio.wait_for(self._changed.wait_for(lambda: self._pick() is not None), wait)
                instance = self._pick()
                assert instance is not None
                self.queued -= 1
                return self._take(instance, self.clock() - started, cold=cold)  # under the lock: no race
        except TimeoutError:
            self.queued -= 1
            raise TimedOut from None
        except BaseException:
            self.queued -= 1
            raise

    def rest(self, url: str, seconds: float) -> None:
        """Skip an instance that refused a connection for `seconds` (the route table may still list it)."""
        instance = self.instances.get(url)
        if instance is not None:
            instance.resting_until = self.clock() + seconds

    def nudge(self) -> None:
        """Let waiting calls look again (an instance's rest ended); the gateway calls it every poll."""
        self._notify()

    def _take(self, instance: Instance, waited: float, *, cold: bool) -> Slot:
        instance.inflight += 1
        self.inflight += 1
        return Slot(instance, self, waited, cold)

    def _release(self, instance: Instance) -> None:
        instance.inflight -= 1
        self.inflight -= 1
        self._notify()

    def _notify(self) -> None:
        async def notify() -> None:
            async with self._changed:
                self._changed.notify_all()  # each waiter re-checks, in arrival order

        if self.queued:
            asyncio.get_running_loop().create_task(notify())
