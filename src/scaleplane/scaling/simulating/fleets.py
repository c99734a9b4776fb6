"""The simulated target: what it is (TargetModel), and its replicas (Fleet), as a ReplicaSet keeps them.

Pending start-ups are (ready tick, count) batches, not one entry per replica, so 10^8 replicas cost what
10 do. Removal takes the latest-requested not-ready replicas first, then ready ones.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class TargetModel:
    """What is scaled: how much one replica serves, how long a new one takes, whether work can wait."""

    capacity_per_replica: float = 0.25  # work units per second one ready replica serves
    startup_seconds: float = 60.0  # from request to ready
    queueing: bool = True  # unserved work waits (a FIFO queue) rather than being dropped
    rate_window_seconds: float = 60.0  # the window W of the rate() the demand signal is read over

    def startup_ticks(self, tick_seconds: float) -> int:
        return max(0, math.ceil(self.startup_seconds / tick_seconds - 1e-9))

    def as_dict(self) -> dict[str, Any]:
        return {
            "capacity_per_replica": self.capacity_per_replica,
            "startup_seconds": self.startup_seconds,
            "queueing": self.queueing,
            "rate_window_seconds": self.rate_window_seconds,
        }


class Fleet:
    """Replicas billed: `ready` ones and start-up batches `(ready tick, count)` in the order requested."""

    def __init__(self, ready: int) -> None:
        self.ready = ready
        self.starting: deque[list[int]] = deque()
        self.billed = ready

    def advance(self, k: int) -> None:
        """Make every batch due by tick k ready."""
        while self.starting and self.starting[0][0] <= k:
            self.ready += self.starting.popleft()[1]

    def resize(self, desired: int, ready_tick: int) -> None:
        """Add a batch ready at `ready_tick`, or remove the latest-ready first (not-ready before ready)."""
        if desired > self.billed:
            if self.starting and self.starting[-1][0] == ready_tick:
                self.starting[-1][1] += desired - self.billed
            else:
                self.starting.append([ready_tick, desired - self.billed])
        else:
            remove = self.billed - desired
            while remove and self.starting:
                batch = self.starting[-1]
                taken = min(remove, batch[1])
                batch[1] -= taken
                remove -= taken
                if batch[1] == 0:
                    self.starting.pop()
            self.ready -= remove
        self.billed = desired
