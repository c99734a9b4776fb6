"""The operator-leader-loss data check (pure): from the actuation record, were decisions missed or
applied twice when the leader died?

The drill's load changes once per step (`step_seconds`), to a value that names its step
(`value_of`: `step % cycle + 2`), so every step is one decision to actuate and each accepted actuation
tells which step it served: the tick's time gives the step up to a boundary (Prometheus evaluates the
query a few milliseconds after the tick started), and the value settles which of the two. No step's
value is 1, the policy's minReplicas: the raise to it that starts the record is never read as a step.

    doubled   a step with more than one accepted actuation (two replicas both acting, or one acting
              on a stale read): the fault this scenario exists to rule out
    missed    a step with none, while some replica led: every step from the first actuation to the
              fault, and from the standby's first actuation to the last
    gap       the steps between the fault and the takeover: no replica led, nothing could act; they
              are the RTO's cost, not a miss, and reported as such
    stale     actuations accepted after the takeover under an older fencing token (the fence failed)
    unplaced  actuations whose value names no step near their time, after the first one that does
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass


@dataclass(frozen=True)
class Actuation:
    at: float  # the tick's time (wall clock, seconds)
    replicas: int
    by: str
    token: int


@dataclass(frozen=True)
class Check:
    actuations: int
    steps_covered: int
    doubled: tuple[int, ...]
    missed: tuple[int, ...]
    gap: tuple[int, ...]
    stale: int
    unplaced: int  # actuations whose value names no step near their time (not the drill's load)
    takeover_at: float | None  # the first actuation by another replica than the one that led at the fault
    new_leader: str | None

    @property
    def ok(self) -> bool:
        return self.takeover_at is not None and not (
            self.doubled or self.missed or self.stale or self.unplaced
        )


OFFSET = 2  # the lowest step value; 1 would be the minReplicas raise at 3 steps in every cycle


def value_of(step: int, cycle: int) -> int:
    """The drill load's value at `step`: OFFSET .. cycle + OFFSET - 1."""
    return step % cycle + OFFSET


def step_of(a: Actuation, step_seconds: float, cycle: int) -> int | None:
    base = math.floor(a.at / step_seconds)
    for step in (base, base + 1, base - 1):
        if value_of(step, cycle) == a.replicas:
            return step
    return None


def check(
    record: list[Actuation], fault_at: float, old_leader: str, *, step_seconds: float, cycle: int
) -> Check:
    record = sorted(record, key=lambda a: a.at)
    steps = [step_of(a, step_seconds, cycle) for a in record]
    # The record starts with the pool raised to minReplicas before the first metric was read: not a
    # decision of the drill's load. Count from the first actuation that is.
    first = next((i for i, s in enumerate(steps) if s is not None), len(steps))
    record, steps = record[first:], steps[first:]
    counts = Counter(s for s in steps if s is not None)
    doubled = tuple(sorted(s for s, n in counts.items() if n > 1))
    after = [(a, s) for a, s in zip(record, steps, strict=True) if a.at >= fault_at and a.by != old_leader]
    takeover = after[0][0] if after else None
    before = [s for a, s in zip(record, steps, strict=True) if a.at < fault_at and s is not None]
    expected: set[int] = set()
    if before:
        expected |= set(range(min(before), max(before) + 1))
    gap: tuple[int, ...] = ()
    if takeover is not None:
        new_steps = [s for _, s in after if s is not None]
        expected |= set(range(min(new_steps), max(new_steps) + 1))
        last_before = max(before) if before else math.floor(fault_at / step_seconds) - 1
        gap = tuple(range(last_before + 1, min(new_steps)))
    unplaced = sum(s is None for s in steps)
    missed = tuple(sorted(expected - set(counts)))
    newest = max((a.token for a in record if a.at < fault_at), default=None)
    stale = sum(
        1
        for a in record
        if takeover is not None and a.at >= takeover.at and newest is not None and a.token <= newest
    )
    return Check(
        actuations=len(record),
        steps_covered=len(counts),
        doubled=doubled,
        missed=missed,
        gap=gap,
        stale=stale,
        unplaced=unplaced,
        takeover_at=takeover.at if takeover else None,
        new_leader=takeover.by if takeover else None,
    )
