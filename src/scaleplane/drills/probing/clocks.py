"""The real clock for drills: wall time (the probes' threads and the report's timestamps share it)."""

from __future__ import annotations

import time


class WallClock:
    def now(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)
