"""What the demo writes down as it runs: one row a second of load, queue, metrics and replicas.

The recorder reads only what is already in memory (the load generator's counters, the controller's
last outcomes, the pools' counts) plus one Prometheus query for the queue depth, so sampling never
slows the loop it watches. The report and the live view are both drawn from these rows.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from scaleplane.local import platform as local_platform
from scaleplane.local.demo import loadgen


@dataclass
class PolicySample:
    current: int | None
    ready: int | None
    desired: int | None
    metrics: dict[str, float | None]


@dataclass
class Row:
    t: float  # seconds since the load started
    phase: str
    target_rps: float
    ok: int
    failed: int
    shed: int
    p95_ms: float | None
    queue_depth: float | None
    policies: dict[str, PolicySample]
    calls_ok: int = 0  # function calls answered through the gateway in the last full second
    calls_failed: int = 0
    cold_starts: int = 0


@dataclass
class Recording:
    started_at: float = 0.0  # epoch seconds when the load started
    ended_at: float = 0.0
    rows: list[Row] = field(default_factory=list)
    history: dict[str, list[int]] = field(default_factory=dict)  # ready replicas per policy, per row
    # The generator's whole-run totals of function calls: rows sample one second a second, and a call
    # answered in a second no row sampled would be missing from a sum of rows.
    calls: dict[str, int] = field(default_factory=dict)


class Recorder:
    def __init__(
        self, running: local_platform.Platform, generator: loadgen.LoadGenerator, queue_query: str
    ) -> None:
        self.platform = running
        self.generator = generator
        self.queue_query = queue_query
        self.recording = Recording()
        self._started_monotonic = 0.0

    def begin(self) -> None:
        self.recording.started_at = time.time()
        self._started_monotonic = time.monotonic()

    def elapsed(self) -> float:
        return time.monotonic() - self._started_monotonic

    def queue_depth(self) -> float | None:
        assert self.platform.servers is not None
        try:
            return self.platform.servers.prometheus.query(self.queue_query)
        except Exception:  # a missed sample is a gap in the plot, not a failed demo
            return None

    async def sample(self) -> Row:
        queue_depth = await asyncio.to_thread(self.queue_depth)
        seconds = self.generator.stats.seconds
        last = seconds[-2] if len(seconds) >= 2 else (seconds[-1] if seconds else None)
        policies: dict[str, PolicySample] = {}
        for managed in self.platform.managed:
            name = managed.key.name
            outcome = self.platform.last.get(name)
            observation = outcome.observation if outcome else None
            decision = outcome.decision if outcome else None
            current: int | None
            ready: int | None
            try:  # the pool's own count, every second (the tick's observation is up to a tick old)
                count = await managed.target.read()
                current, ready = count.current, count.ready
            except Exception:
                current = observation.current_replicas if observation else None
                ready = observation.ready_replicas if observation else None
            policies[name] = PolicySample(
                current=current,
                ready=ready,
                desired=decision.desired if decision else None,
                metrics={s.name: s.value for s in observation.samples} if observation else {},
            )
            self.recording.history.setdefault(name, []).append(policies[name].ready or 0)
        row = Row(
            t=self.elapsed(),
            phase=last.phase if last else "",
            target_rps=last.target_rps if last else 0.0,
            ok=last.ok if last else 0,
            failed=last.failed if last else 0,
            shed=last.shed if last else 0,
            p95_ms=last.p95_ms if last else None,
            queue_depth=queue_depth,
            policies=policies,
            calls_ok=last.calls_ok if last else 0,
            calls_failed=last.calls_failed if last else 0,
            cold_starts=last.cold_starts if last else 0,
        )
        self.recording.rows.append(row)
        return row

    def end(self) -> Recording:
        self.recording.ended_at = time.time()
        totals = self.generator.stats.totals()
        self.recording.calls = {
            k: v for k, v in totals.items() if k.startswith("calls") or k == "cold_starts"
        }
        return self.recording
