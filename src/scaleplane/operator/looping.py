"""The one loop per operator: every `tick_seconds`, one Controller tick over every known policy.

Not one task per policy: a tick fetches every distinct query once (control.Controller), decides for
all policies, actuates, then records (operator.recording). A replica that does not hold the Lease
ticks too but only to keep its gauges honest: it neither decides nor actuates nor writes status.

Ticks start on a fixed schedule (start + n * tick_seconds); a tick that overruns its slot makes the
next one start at once, never two at the same time.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from scaleplane.control import policies, ticking
from scaleplane.operator import instruments, leasing, recording, registering

log = logging.getLogger(__name__)


class OperatorLoop:
    def __init__(
        self,
        *,
        tick_seconds: float,
        registry: registering.Registry,
        controller: ticking.Controller,
        recorder: recording.Recorder,
        meters: instruments.Instruments,
        lease: leasing.LeaseKeeper | None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.tick_seconds = tick_seconds
        self.registry = registry
        self.controller = controller
        self.recorder = recorder
        self.meters = meters
        self.lease = lease
        self._clock = clock
        self.ticks = 0

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        next_at = loop.time()
        while True:
            try:
                await self.tick()
            except Exception:  # a tick must never end the loop; the next one starts on schedule
                self.meters.errors.labels("tick").inc()
                log.exception("the tick failed as a whole")
            next_at += self.tick_seconds
            now = loop.time()
            if next_at < now:  # overran: start the next tick now, and schedule from here
                next_at = now
            await asyncio.sleep(next_at - now)

    async def tick(self) -> list[policies.TickOutcome]:
        leader = self.lease is None or self.lease.is_leader
        self.meters.leader.set(1 if leader else 0)
        self.meters.policies.labels("valid").set(len(self.registry.entries))
        self.meters.policies.labels("invalid").set(len(self.registry.invalid))
        if not leader:
            return []
        started = time.perf_counter()
        now = self._clock()
        outcomes = await self.controller.tick(self.registry.managed(), now)
        await self.recorder.record(outcomes, now)
        self.meters.tick_duration.observe(time.perf_counter() - started)
        self.ticks += 1
        return outcomes
