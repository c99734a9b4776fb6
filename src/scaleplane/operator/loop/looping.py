"""The one loop per operator: every `tick_seconds`, one Controller tick over every known policy.

Not one task per policy: a tick fetches every distinct query once (control.Controller), decides for
all policies, actuates, then records (operator.records.recording). A replica that does not hold the Lease
ticks too but only to keep its gauges honest: it neither decides nor actuates nor writes status.
The Lease is asked again right before every /scale write and before recording (operator.loop.leasing).

A replica that becomes the Lease holder first reloads every policy's engine state from the API
(`resync`): the states it held were read when it first saw each policy, the old leader wrote newer ones.

Ticks start on a fixed schedule (start + n * tick_seconds); a tick that overruns its slot makes the
next one start at once, never two at the same time.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from scaleplane.control import policies, ticking
from scaleplane.operator.loop import leasing
from scaleplane.operator.records import instruments, recording, registering

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
        resync: Callable[[], Awaitable[None]] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.tick_seconds = tick_seconds
        self.registry = registry
        self.controller = controller
        self.recorder = recorder
        self.meters = meters
        self.lease = lease
        self._resync = resync
        self._clock = clock
        self._leading = False
        self.ticks = 0
        # Read at scrape time, not set at each tick: a replica that lost the Lease between ticks (a
        # renew missed its deadline) must not report 1 beside the standby that took it over.
        meters.leader.set_function(lambda: 1.0 if self._still_leader() else 0.0)

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

    @property
    def leading(self) -> bool:
        """True while this replica actuates (it ticked as the Lease holder and has not lost it)."""
        return self._leading

    def _still_leader(self) -> bool:
        return self.lease is None or self.lease.is_leader

    def _taking_over(self) -> bool:
        return not self._leading and self.lease is not None

    async def tick(self) -> list[policies.TickOutcome]:
        leader = self._still_leader()
        self.meters.policies.labels("valid").set(len(self.registry.entries))
        self.meters.policies.labels("invalid").set(len(self.registry.invalid))
        if not leader:
            self._leading = False
            return []
        if self._resync is not None and self._taking_over():
            # Taking over from another replica: the engine states held here were read when this
            # replica first saw each policy; the leader has written newer ones into status since.
            try:
                await self._resync()
            except Exception:
                self.meters.errors.labels("resync").inc()
                log.exception("cannot reload the engine states on taking over; not actuating this tick")
                return []
        self._leading = True
        started = time.perf_counter()
        now = self._clock()
        managed = self.registry.managed()
        outcomes = await self.controller.tick(managed, now, may_actuate=self._still_leader)
        if not self._still_leader():
            # Lost the Lease during the tick (a renew failed past its deadline, or this process was
            # paused): another replica may lead by now, so this one writes no status, Events or hooks.
            self._leading = False
            self.meters.errors.labels("lease_lost").inc()
            log.warning("lost the Lease during the tick: its outcomes are not recorded")
            return outcomes
        await self.recorder.record(outcomes, now)
        self.meters.tick_duration.observe(time.perf_counter() - started)
        self.meters.tick_queries.set(len(ticking.distinct_queries(managed)))
        self.ticks += 1
        return outcomes
