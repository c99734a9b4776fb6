"""The local platform's loop: every `tick_seconds`, one Controller tick over every managed policy.

`LocalLoop` holds what the loop keeps between ticks and what the demo and `local status` read: the
managed policies, each one's last outcome, the recent decisions, the tick count, and when the
gateway last woke a function. `Platform` is a `LocalLoop` with the servers and pools around it; it
fills `managed` and sets `controller` once everything runs.

Every tick rewrites `state.json` (engine state and the count asked of each target) and appends the
changed or failed decisions to `decisions.jsonl`, the files a restart resumes from. A wake from the
gateway (`wake`) scales a function pool at zero at once, between ticks, and is logged there too.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections import deque
from pathlib import Path
from typing import Any

from scaleplane.control import meters, policies, ticking
from scaleplane.local import statefiles
from scaleplane.scaling import decisions
from scaleplane.scaling.deciding import activation

# The platform's own name: its messages read the same wherever in the assembly they come from.
log = logging.getLogger("scaleplane.local.platform")
RECENT_DECISIONS = 200
WOKEN = "WokenByGateway"  # the reason of a wake in decisions.jsonl (not a tick's decision)


class LocalLoop:
    def __init__(self, state_dir: Path, tick_seconds: float) -> None:
        self.state_dir = state_dir
        self.tick_seconds = tick_seconds
        self.instruments = meters.LoopMeters()
        self.managed: list[policies.ManagedPolicy] = []
        self.controller: ticking.Controller | None = None
        self.last: dict[str, policies.TickOutcome] = {}
        self.recent: deque[dict[str, Any]] = deque(maxlen=RECENT_DECISIONS)
        self.ticks = 0
        self.woken: dict[str, float] = {}  # policy name -> when the gateway woke its function

    @property
    def decisions_path(self) -> Path:
        return self.state_dir / "decisions.jsonl"

    @property
    def state_path(self) -> Path:
        return self.state_dir / "state.json"

    async def run(self, stop: asyncio.Event) -> None:
        """Tick every `tick_seconds` until `stop` is set (a tick in progress finishes first)."""
        while not stop.is_set():
            started = time.monotonic()
            await self.tick()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    stop.wait(), max(0.0, self.tick_seconds - (time.monotonic() - started))
                )

    async def tick(self) -> list[policies.TickOutcome]:
        assert self.controller is not None
        started = time.monotonic()
        outcomes = await self.controller.tick(self.managed, time.time())
        self.ticks += 1
        remembered = {}
        for managed, outcome in zip(self.managed, outcomes, strict=True):
            managed.state = _with_wake(outcome.state, self.woken.get(managed.key.name))
            self.last[managed.key.name] = outcome
            self.instruments.record(
                outcome, managed.spec.metrics, (managed.spec.min_replicas, managed.spec.max_replicas)
            )
            decision = outcome.decision
            count = await managed.target.read()
            remembered[managed.key.name] = statefiles.Remembered(outcome.state, count.current, time.time())
            changed = decision is not None and decision.desired != decision.current
            if outcome.scaled or outcome.error is not None or changed:
                ready = outcome.observation.ready_replicas if outcome.observation else None
                record = statefiles.decision_record(
                    managed.key.name, decision, scaled=outcome.scaled, error=outcome.error, ready=ready
                )
                record.setdefault("at", time.time())
                statefiles.append_decision(self.decisions_path, record)
                self.recent.append(record)
        statefiles.save_state(self.state_path, remembered)
        self.instruments.tick_duration.observe(time.monotonic() - started)
        self.instruments.tick_queries.set(len(ticking.distinct_queries(self.managed)))
        return outcomes

    async def wake(self, key: Any) -> str:
        """The gateway's signal: a call waits for a function at zero. Scale its pool now, not next tick.

        The policy is marked active from now (the engine's `lastActiveAt`), so the next tick does not
        take the instance away before the queued calls show in Prometheus.
        """
        pool = f"{key.namespace}.{key.name}"
        for managed in self.managed:
            if managed.spec.target_ref.kind == "FunctionPool" and managed.spec.target_ref.name == pool:
                count = await managed.target.read()
                now = time.time()
                self.woken[managed.key.name] = now
                managed.state = dataclasses.replace(managed.state, last_active_at=now)
                if count.current > 0:
                    return f"already at {count.current}"
                wake_to = activation.wake_count(managed.spec, None)
                await managed.target.scale(wake_to)
                log.info("%s woken by the gateway: 0 -> %d", managed.key.name, wake_to)
                # In the decision log too: the wake is the 0 -> N the next ticks continue from.
                record: dict[str, Any] = {
                    "policy": managed.key.name,
                    "scaled": True,
                    "error": None,
                    "at": now,
                }
                record |= {"current": 0, "desired": wake_to, "reason": WOKEN, "message": "a call waits"}
                statefiles.append_decision(self.decisions_path, record)
                self.recent.append(record)
                return f"0 -> {wake_to}"
        raise KeyError(pool)


def _with_wake(state: decisions.ScalingState, woken_at: float | None) -> decisions.ScalingState:
    # A wake that landed while the tick ran must survive the tick's new state (see LocalLoop.wake).
    if woken_at is None or (state.last_active_at or 0.0) >= woken_at:
        return state
    return dataclasses.replace(state, last_active_at=woken_at)
