"""Waiting on real servers: poll a check until it holds or a deadline passes.

Tests on real processes cannot know when a server has acted, only ask it again. One helper each way:
`eventually` inside a test's event loop (the check may be a plain function or a coroutine function, so a
test polls Prometheus, kmock and its own in-process pools alike) and `until` in plain code (drills,
whose checks read files and /proc). Both give up at the test's deadline and never hang; pytest-timeout
stays the last guard.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Any


async def eventually(
    check: Callable[[], Any | Awaitable[Any]],
    timeout: float = 20.0,
    what: str | None = None,
    *,
    every: float = 0.2,
) -> Any:
    """Await until `check()` returns something truthy, and return it.

    After `timeout` s: AssertionError naming `what` (when given) and the check's last value.
    """
    deadline = time.monotonic() + timeout
    while True:
        last = check()
        if inspect.isawaitable(last):
            last = await last
        if last:
            return last
        if time.monotonic() > deadline:
            waited_for = f": {what}" if what else ""
            raise AssertionError(f"not within {timeout:g} s{waited_for}; last value: {last!r}")
        await asyncio.sleep(every)


def until(check: Callable[[], bool], timeout: float, *, every: float = 0.2) -> bool:
    """Whether `check()` became true within `timeout` s (the caller's assert says what it was waiting on)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(every)
    return False
