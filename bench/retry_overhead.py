"""What the tick's retry wrapper costs per target call: `control.retrying` against tenacity.

    uv run python bench/retry_overhead.py                   # records the table in docs/benchmarks.md
    uv run python bench/retry_overhead.py --calls 2000 --rounds 3 --no-record

The project retries target calls with its own `control.retrying.call_with_retries` (about 40 lines)
where `functions.client` uses tenacity. This measures whether the tick could use tenacity too: one
round is `--calls` target calls gathered at once, as the tick makes one read per policy (10,000
policies: 10,000 reads, plus a write for each that scales), each under a concurrency slot and a
timeout per attempt. Side by side in one process, the modes taking turns round after round:

    bare        the slot and the timeout only, one attempt that answers: the floor both are measured
                against (under the failing load too, so there the logic includes two more attempts)
    retrying    control.retrying.call_with_retries, as the tick calls it
    tenacity    the same policy through tenacity.AsyncRetrying (stop after the retries, exponential
                wait capped, retry only a retryable TargetError, the timeout made a retryable one),
                one policy object per call: tenacity keeps a call's iteration state on the object
                (per thread, not per coroutine), and its own `@retry` copies the object per call too

Two loads: every call answers at once (a tick's usual case), and every call fails twice with a
retryable error before it answers (sleep replaced by a zero-length one in both, so the figure is the
retry logic's CPU, not the back-off). The target is a no-op coroutine: what differs between the modes
is the wrapper, and that is all this measures (no Kubernetes API, no Prometheus).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import tenacity

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scaleplane.control import retrying
from scaleplane.targets import protocol

T = TypeVar("T")
BACKOFF = retrying.Backoff()  # the tick's default: 3 retries, 0.2 s doubling, capped at 2 s
TIMEOUT = 2.0


async def no_sleep(_: float) -> None:
    await asyncio.sleep(0)


async def bare(call: Callable[[], Awaitable[T]], slots: asyncio.Semaphore) -> T:
    async with slots, asyncio.timeout(TIMEOUT):
        return await call()


async def with_retrying(call: Callable[[], Awaitable[T]], slots: asyncio.Semaphore) -> T:
    return await retrying.call_with_retries(
        call, backoff=BACKOFF, timeout=TIMEOUT, slots=slots, sleep=no_sleep
    )


def _retryable(exc: BaseException) -> bool:
    return isinstance(exc, protocol.TargetError) and exc.retryable


async def with_tenacity(call: Callable[[], Awaitable[T]], slots: asyncio.Semaphore) -> T:
    async def attempt() -> T:
        try:
            async with slots, asyncio.timeout(TIMEOUT):
                return await call()
        except TimeoutError:
            raise protocol.TargetError(f"no answer within {TIMEOUT:g} s", retryable=True) from None

    policy = tenacity.AsyncRetrying(
        stop=tenacity.stop_after_attempt(BACKOFF.retries + 1),
        wait=tenacity.wait_exponential(multiplier=BACKOFF.initial, exp_base=BACKOFF.factor, max=BACKOFF.cap),
        retry=tenacity.retry_if_exception(_retryable),
        sleep=no_sleep,
        reraise=True,
    )
    return await policy(attempt)


MODES = {"bare": bare, "retrying": with_retrying, "tenacity": with_tenacity}


def target(failures: int) -> Callable[[], Awaitable[int]]:
    """A no-op target call that raises a retryable TargetError `failures` times, then answers."""
    left = failures

    async def call() -> int:
        nonlocal left
        if left:
            left -= 1
            raise protocol.TargetError("HTTP 503", retryable=True)
        return 1

    return call


async def one_round(mode: str, calls: int, failures: int) -> float:
    wrapper, slots = MODES[mode], asyncio.Semaphore(64)
    # The floor is one attempt that answers, under either load: a bare call cannot retry.
    targets = [target(0 if mode == "bare" else failures) for _ in range(calls)]
    started = time.process_time()
    answers = await asyncio.gather(*(wrapper(t, slots) for t in targets))
    spent = time.process_time() - started
    assert sum(answers) == calls
    return spent


def measure(calls: int, rounds: int, failures: int) -> dict[str, float]:
    """Median CPU seconds per round for each mode; the modes take turns within every round."""
    spent: dict[str, list[float]] = {mode: [] for mode in MODES}
    modes = list(MODES)
    for i in range(rounds + 1):  # the first round warms up and is left out
        for mode in modes[i % 3 :] + modes[: i % 3]:
            cpu = asyncio.run(one_round(mode, calls, failures))
            if i:
                spent[mode].append(cpu)
    return {mode: statistics.median(values) for mode, values in spent.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=10_000, help="target calls gathered per round")
    parser.add_argument("--rounds", type=int, default=7, help="measured rounds per mode (plus one warm-up)")
    parser.add_argument("--no-record", action="store_true", help="print the table only")
    args = parser.parse_args()
    load = os.getloadavg()
    rows = []
    for label, failures in (("answers at once", 0), ("fails twice, then answers", 2)):
        median = measure(args.calls, args.rounds, failures)
        rows.append((label, median))
    per_call = {label: {m: 1e6 * s / args.calls for m, s in median.items()} for label, median in rows}
    table = [
        "| load | calls per round | bare µs/call | retrying µs/call | tenacity µs/call "
        "| retry logic µs/call: retrying | tenacity | tenacity / retrying (logic) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for label, us in per_call.items():
        own, lib = us["retrying"] - us["bare"], us["tenacity"] - us["bare"]
        table.append(
            f"| {label} | {args.calls:,} | {us['bare']:.1f} | {us['retrying']:.1f} | {us['tenacity']:.1f} "
            f"| {own:.1f} | {lib:.1f} | {lib / own:.1f}x |"
            if own > 0
            else f"| {label} | {args.calls:,} | {us['bare']:.1f} | {us['retrying']:.1f} "
            f"| {us['tenacity']:.1f} | {own:.1f} | {lib:.1f} | - |"
        )
    quick = per_call["answers at once"]
    extra = (quick["tenacity"] - quick["retrying"]) * 10_000 / 1e6
    body = "\n".join(table) + (
        f"\n\nMedian CPU time of {args.rounds} rounds per mode after a warm-up, the three modes taking turns "
        "in every round (one process). 'Retry logic' is a mode's time less the bare slot-and-timeout "
        "call's. The target is a no-op coroutine and the back-off sleeps are zero-length in every mode: "
        "the figures are the wrappers' CPU, not a server's latency or the back-off. At 10,000 policies "
        f"(10,000 target reads per tick, before any write) tenacity would add about {extra:.2f} s of CPU "
        "per tick over control.retrying on the usual path. "
        f"Load average at the start: {load[0]:.1f}, {load[1]:.1f}, {load[2]:.1f} on {os.cpu_count()} cores."
    )
    print(body)
    if not args.no_record:
        from bench import recording

        recording.record("retry-overhead", "## The tick's retry wrapper: control.retrying and tenacity", body)


if __name__ == "__main__":
    main()
