"""A SIGTERM unwinds like Ctrl-C, and the cleanup it starts is never cut short by another one.

Python's default for SIGTERM ends the process at once, leaving every server it started running. So
`scaleplane drill run --execute` and the test run turn the first SIGTERM into KeyboardInterrupt, and
the `finally` blocks and fixture finalizers unwind: the drill's rollback, the servers' stops. The signal
rarely comes alone. `uv run` forwards the SIGTERM it gets to its child, and `pkill -f` matches
`timeout`, `uv` and the command at once, so the process receives it two or three times. Raising again
interrupted the cleanup half way (a test session's Prometheus, moto_server and PostgreSQL were left
running), so later SIGTERMs are ignored until the cleanup is over; SIGKILL still ends the process.
`local up` gets the same rule from `local.serving`, which turns its stop signals into an event instead.
"""

from __future__ import annotations

import contextlib
import signal
import sys
from collections.abc import Iterator
from types import FrameType


def interrupt_once(signum: int, frame: FrameType | None) -> None:
    """The SIGTERM handler: KeyboardInterrupt the first time, ignored after that."""
    signal.signal(signal.SIGTERM, ignore_again)
    raise KeyboardInterrupt(f"signal {signum}")


def ignore_again(signum: int, frame: FrameType | None) -> None:
    """The handler after the first SIGTERM: say so, and go on with the cleanup."""
    print(f"signal {signum} again: ignored until the cleanup the first one started is over", file=sys.stderr)


def install() -> None:
    """`interrupt_once` for the rest of the process (the test run)."""
    signal.signal(signal.SIGTERM, interrupt_once)


@contextlib.contextmanager
def sigterm_unwinds() -> Iterator[None]:
    """`interrupt_once` inside the block; the previous handler back after it, cleanup included."""
    previous = signal.signal(signal.SIGTERM, interrupt_once)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
