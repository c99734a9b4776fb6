"""A bounded asyncio load generator: a flash crowd on the API and bursts of jobs, by phases.

Why not locust: the demo needs a few hundred requests a second from inside the same process that draws
the live view and writes the report, with the numbers in hand (per-second sent/ok/failed/latency), and
a hard bound on count and time. That is thirty lines of aiohttp; locust would add gevent, a web UI and a
second process to collect the same counts from.

Open loop on purpose: requests are sent at the phase's rate whatever the latency, as real users do;
when `max_in_flight` requests are already waiting, the next ones are counted as `shed` rather than
queued, so a slow server cannot make the generator itself grow without bound. Every request goes to
127.0.0.1; `max_requests` and each phase's duration bound the whole run.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import statistics
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import aiohttp

MAX_RATE = 1000.0  # requests/s: a bound of the tool, far above what 2 cores serve
JOB_CHUNK = 500  # jobs per POST /jobs


@dataclass(frozen=True)
class Phase:
    """`seconds` of `api_rps` item reads, with `jobs` jobs enqueued at the phase's start."""

    name: str
    seconds: float
    api_rps: float
    jobs: int = 0

    def __post_init__(self) -> None:
        if not 0 < self.seconds <= 3600:
            raise ValueError(f"phase {self.name!r}: seconds must be in (0, 3600], was {self.seconds}")
        if not 0 <= self.api_rps <= MAX_RATE:
            raise ValueError(f"phase {self.name!r}: api_rps must be 0..{MAX_RATE:g}, was {self.api_rps}")
        if not 0 <= self.jobs <= 100_000:
            raise ValueError(f"phase {self.name!r}: jobs must be 0..100000, was {self.jobs}")


@dataclass(frozen=True)
class Profile:
    name: str
    description: str
    phases: tuple[Phase, ...]
    job_seconds: float = 0.5  # how long one job keeps a worker busy
    id_space: int = 20_000  # item ids drawn uniformly: wide, so most reads miss the cache

    @property
    def seconds(self) -> float:
        return sum(p.seconds for p in self.phases)

    def scaled(self, seconds: float) -> Profile:
        """The same shape stretched or squeezed to last `seconds`."""
        if seconds <= 0:
            raise ValueError(f"duration must be > 0 seconds, was {seconds}")
        k = seconds / self.seconds
        phases = tuple(Phase(p.name, p.seconds * k, p.api_rps, p.jobs) for p in self.phases)
        return Profile(self.name, self.description, phases, self.job_seconds, self.id_space)


@dataclass
class Second:
    """What happened in one second of the run (t is seconds since the run started)."""

    t: int
    phase: str
    target_rps: float
    sent: int = 0
    ok: int = 0
    failed: int = 0
    shed: int = 0
    jobs: int = 0
    latencies: list[float] = field(default_factory=list)

    @property
    def p95_ms(self) -> float | None:
        if len(self.latencies) < 2:
            return self.latencies[0] * 1000 if self.latencies else None
        return statistics.quantiles(self.latencies, n=20)[-1] * 1000


@dataclass
class Stats:
    seconds: list[Second] = field(default_factory=list)
    started: float = 0.0
    phase: str = ""
    errors: dict[str, int] = field(default_factory=dict)

    def at(self, now: float, target_rps: float) -> Second:
        t = int(now - self.started)
        while len(self.seconds) <= t:
            self.seconds.append(Second(len(self.seconds), self.phase, target_rps))
        return self.seconds[t]

    def totals(self) -> dict[str, int]:
        keys = ("sent", "ok", "failed", "shed", "jobs")
        return {k: sum(getattr(s, k) for s in self.seconds) for k in keys}


def check_loopback(base_url: str) -> str:
    host = urlsplit(base_url).hostname or ""
    if not (host == "localhost" or host.startswith("127.")):
        raise ValueError(f"the load generator only targets 127.0.0.1, was {base_url!r}")
    return base_url.rstrip("/")


class LoadGenerator:
    def __init__(
        self,
        base_url: str,
        profile: Profile,
        *,
        max_in_flight: int = 64,
        max_requests: int = 200_000,
        on_phase: Callable[[Phase], None] | None = None,
        seed: int = 7,
    ) -> None:
        self.base_url = check_loopback(base_url)
        self.profile = profile
        self.max_in_flight = max_in_flight
        self.max_requests = max_requests
        self.on_phase = on_phase
        self.stats = Stats()
        self._random = random.Random(seed)
        self._in_flight = 0
        self._sent = 0
        self._stopping = False
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def stop(self) -> None:
        """End the run early: no new request; those in flight finish (or time out) first."""
        self._stopping = True

    async def run(self) -> Stats:
        timeout = aiohttp.ClientTimeout(total=10)
        connector = aiohttp.TCPConnector(limit=self.max_in_flight)
        async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
            self.stats.started = time.monotonic()
            try:
                for phase in self.profile.phases:
                    if self._stopping:
                        break
                    await self._run_phase(session, phase)
                # Let requests in flight finish: a read cut short by us is not the server's failure.
                await asyncio.wait_for(asyncio.gather(*self._tasks, return_exceptions=True), 15)
            finally:
                for task in list(self._tasks):
                    task.cancel()
                await asyncio.gather(*self._tasks, return_exceptions=True)
        return self.stats

    async def _run_phase(self, session: aiohttp.ClientSession, phase: Phase) -> None:
        self.stats.phase = phase.name
        if self.on_phase is not None:
            self.on_phase(phase)
        if phase.jobs:
            self._spawn(self._enqueue(session, phase))
        start = time.monotonic()
        issued = 0
        while (elapsed := time.monotonic() - start) < phase.seconds and not self._stopping:
            due = int(phase.api_rps * elapsed) - issued
            for _ in range(max(0, due)):
                issued += 1
                self._read(session, phase)
            await asyncio.sleep(0.02)
        self.stats.at(time.monotonic(), phase.api_rps)  # the phase's last second exists even if idle

    def _read(self, session: aiohttp.ClientSession, phase: Phase) -> None:
        second = self.stats.at(time.monotonic(), phase.api_rps)
        if self._in_flight >= self.max_in_flight or self._sent >= self.max_requests:
            second.shed += 1
            return
        self._sent += 1
        self._in_flight += 1  # counted here, not in the task: a burst must see its own requests
        second.sent += 1
        self._spawn(self._get(session, phase))

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _get(self, session: aiohttp.ClientSession, phase: Phase) -> None:
        item = self._random.randint(1, self.profile.id_space)
        started = time.monotonic()
        try:
            async with session.get(f"{self.base_url}/items/{item}") as response:
                await response.read()
                ok = response.status == 200
                error = None if ok else f"HTTP {response.status}"
        except (TimeoutError, aiohttp.ClientError) as exc:
            ok, error = False, type(exc).__name__
        finally:
            self._in_flight -= 1
        second = self.stats.at(time.monotonic(), phase.api_rps)
        if ok:
            second.ok += 1
            second.latencies.append(time.monotonic() - started)
        else:
            second.failed += 1
            self.stats.errors[error or "?"] = self.stats.errors.get(error or "?", 0) + 1

    async def _enqueue(self, session: aiohttp.ClientSession, phase: Phase) -> None:
        left = phase.jobs
        while left > 0:
            count = min(left, JOB_CHUNK)
            url = f"{self.base_url}/jobs?count={count}&work={self.profile.job_seconds}"
            with contextlib.suppress(TimeoutError, aiohttp.ClientError):
                async with session.post(url) as response:
                    if response.status == 202:
                        self.stats.at(time.monotonic(), phase.api_rps).jobs += count
            left -= count
