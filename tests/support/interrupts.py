"""A SIGTERM stops the test run the way Ctrl-C does, and the cleanup it starts is never cut short.

CI cancelling a job, `timeout`, or `pkill -f pytest` send SIGTERM; Python's default for it ends the
process at once, leaving every server the session fixtures started running. So the first SIGTERM raises
KeyboardInterrupt, which pytest handles by tearing the fixtures down (stopping servers, removing their
directories). The signal rarely comes alone: `uv run` forwards the SIGTERM it gets to its child, and
`pkill -f` matches `timeout`, `uv` and pytest at once, so pytest receives it two or three times. Raising
again there interrupted the finalizers half way (a session's Prometheus, moto_server and PostgreSQL were
left running), so later SIGTERMs are ignored: the teardown finishes, and SIGKILL still ends the run.
"""

from __future__ import annotations

import signal
import sys
from types import FrameType


def interrupt_once(signum: int, frame: FrameType | None) -> None:
    """The SIGTERM handler: KeyboardInterrupt the first time, ignored after that."""
    signal.signal(signal.SIGTERM, _ignored)
    raise KeyboardInterrupt(f"signal {signum}")


def _ignored(signum: int, frame: FrameType | None) -> None:
    print(f"signal {signum} again: ignored while the fixtures are torn down", file=sys.stderr)


def install() -> None:
    signal.signal(signal.SIGTERM, interrupt_once)
