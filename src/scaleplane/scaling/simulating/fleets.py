"""The simulated target's replicas: ready ones and start-up batches, as a ReplicaSet removes them.

Pending start-ups are (ready tick, count) batches, not one entry per replica, so 10^8 replicas cost what
10 do. Removal takes the latest-requested not-ready replicas first, then ready ones.
"""

from __future__ import annotations

from collections import deque


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
