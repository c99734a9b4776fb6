"""A bounded asyncio load generator: a flash crowd on the API, bursts of jobs and function calls, by phases.

Why not locust: the demo needs a few hundred requests a second from inside the same process that draws
the live view and writes the report, with the numbers in hand (per-second sent/ok/failed/latency), and
a hard bound on count and time. That is thirty lines of aiohttp; locust would add gevent, a web UI and a
second process to collect the same counts from.

Open loop on purpose: requests are sent at the phase's rate whatever the latency, as real users do;
when `max_in_flight` requests are already waiting, the next ones are counted as `shed` rather than
queued, so a slow server cannot make the generator itself grow without bound. Every request goes to
127.0.0.1; `max_requests` and each phase's duration bound the whole run.

Function calls (a phase's `calls_per_s`) go through the function gateway, never to an instance: the
first ones find the function at zero and wait for its cold start, which is what the demo shows. They
have their own in-flight bound and a longer timeout (a cold start is part of the call), and each one
is counted ok, failed or shed, so "no call lost" is `calls == calls_ok`.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
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
CALL_TIMEOUT = 30.0  # seconds: a call may wait for its function's cold start
COLD_START_HEADER = "X-Scaleplane-Cold-Start"  # set by the gateway on a call that waited for a wake


@dataclass(frozen=True)
class Phase:
    """`seconds` of `api_rps` item reads and `calls_per_s` function calls, `jobs` enqueued at its start."""

    name: str
    seconds: float
    api_rps: float
    jobs: int = 0
    calls_per_s: float = 0.0

    def __post_init__(self) -> None:
        if not 0 < self.seconds <= 3600:
            raise ValueError(f"phase {self.name!r}: seconds must be in (0, 3600], was {self.seconds}")
        if not 0 <= self.api_rps <= MAX_RATE:
            raise ValueError(f"phase {self.name!r}: api_rps must be 0..{MAX_RATE:g}, was {self.api_rps}")
        if not 0 <= self.jobs <= 100_000:
            raise ValueError(f"phase {self.name!r}: jobs must be 0..100000, was {self.jobs}")
        if not 0 <= self.calls_per_s <= MAX_RATE:
            raise ValueError(
                f"phase {self.name!r}: calls_per_s must be 0..{MAX_RATE:g}, was {self.calls_per_s}"
            )


@dataclass(frozen=True)
class Profile:
    name: str
    description: str
    phases: tuple[Phase, ...]
    job_seconds: float = 0.5  # how long one job keeps a worker busy
    id_space: int = 20_000  # item ids drawn uniformly: wide, so most reads miss the cache
    function: str = "demo/thumbnail"  # namespace/name the calls go to
    call_seconds: float = 0.5  # how long one call keeps an instance busy

    @property
    def seconds(self) -> float:
        return sum(p.seconds for p in self.phases)

    def scaled(self, seconds: float) -> Profile:
        """The same shape stretched or squeezed to last `seconds`."""
        if seconds <= 0:
            raise ValueError(f"duration must be > 0 seconds, was {seconds}")
        k = seconds / self.seconds
        phases = tuple(dataclasses.replace(p, seconds=p.seconds * k) for p in self.phases)
        return dataclasses.replace(self, phases=phases)


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
    calls: int = 0  # function calls sent through the gateway
    calls_ok: int = 0
    calls_failed: int = 0
    calls_shed: int = 0
    cold_starts: int = 0  # answered calls that waited for the function to wake
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
        keys: tuple[str, ...] = ("sent", "ok", "failed", "shed", "jobs")
        keys += ("calls", "calls_ok", "calls_failed", "calls_shed", "cold_starts")
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
        gateway_url: str | None = None,
    ) -> None:
        self.base_url = check_loopback(base_url)
        # No gateway (or no demo function): the phases' calls are not sent, the rest runs as before.
        self.gateway_url = check_loopback(gateway_url) if gateway_url else None
        self.profile = profile
        self.max_in_flight = max_in_flight
        self.max_requests = max_requests
        self.on_phase = on_phase
        self.stats = Stats()
        self._random = random.Random(seed)
        self._in_flight = 0
        self.calls_in_flight = 0
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
        connector = aiohttp.TCPConnector(limit=2 * self.max_in_flight)  # reads and calls, each bounded
        async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
            self.stats.started = time.monotonic()
            try:
                for phase in self.profile.phases:
                    if self._stopping:
                        break
                    await self._run_phase(session, phase)
                # Let requests in flight finish: a read cut short by us is not the server's failure.
                await asyncio.wait_for(asyncio.gather(*self._tasks, return_exceptions=True), CALL_TIMEOUT)
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
        issued = called = 0
        calls_per_s = phase.calls_per_s if self.gateway_url else 0.0
        while (elapsed := time.monotonic() - start) < phase.seconds and not self._stopping:
            due = int(phase.api_rps * elapsed) - issued
            for _ in range(max(0, due)):
                issued += 1
                self._read(session, phase)
            for _ in range(max(0, int(calls_per_s * elapsed) - called)):
                called += 1
                self._call(session, phase)
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

    def _call(self, session: aiohttp.ClientSession, phase: Phase) -> None:
        second = self.stats.at(time.monotonic(), phase.api_rps)
        if self.calls_in_flight >= self.max_in_flight or self._sent >= self.max_requests:
            second.calls_shed += 1
            return
        self._sent += 1
        self.calls_in_flight += 1
        second.calls += 1
        self._spawn(self._post_call(session, phase))

    async def _post_call(self, session: aiohttp.ClientSession, phase: Phase) -> None:
        url = f"{self.gateway_url}/v1/functions/{self.profile.function}"
        params = {
            "width": self._random.randint(200, 4000),
            "height": self._random.randint(200, 4000),
            "work_seconds": self.profile.call_seconds,
        }
        cold = False
        try:
            async with session.post(url, json=params, timeout=aiohttp.ClientTimeout(CALL_TIMEOUT)) as answer:
                await answer.read()
                ok = answer.status == 200
                cold = COLD_START_HEADER in answer.headers
                error = None if ok else f"call HTTP {answer.status}"
        except (TimeoutError, aiohttp.ClientError) as exc:
            ok, error = False, f"call {type(exc).__name__}"
        finally:
            self.calls_in_flight -= 1
        second = self.stats.at(time.monotonic(), phase.api_rps)
        if ok:
            second.calls_ok += 1
            second.cold_starts += cold
        else:
            second.calls_failed += 1
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
