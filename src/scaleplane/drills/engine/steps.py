"""What a drill is made of: steps with their expected outcome and timeout, objectives, a rollback.

The phases are the runbook's sections (detect, decide, act, verify, fail back) plus the two that only a
drill has: `prepare` (build what the drill breaks) and `inject` (the fault). Every step of a scenario has
a runbook heading of the same id (a test checks both directions).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Phase(StrEnum):
    PREPARE = "prepare"
    INJECT = "inject"
    DETECT = "detect"
    DECIDE = "decide"
    ACT = "act"
    VERIFY = "verify"
    FAIL_BACK = "fail back"
    ROLLBACK = "rollback"


@dataclass(frozen=True)
class Step:
    """One step: `id` names the backend action and the runbook heading; `expect` is what must hold at
    its end, within `timeout_seconds`, or the drill stops (a stop condition) and only rollback runs."""

    id: str
    phase: Phase
    does: str
    expect: str
    timeout_seconds: float

    def __post_init__(self) -> None:
        if self.timeout_seconds <= 0:
            raise ValueError(f"step {self.id}: timeout_seconds must be > 0, was {self.timeout_seconds}")


@dataclass(frozen=True)
class Objectives:
    """Recovery objectives in Resilience Hub's terms: a drill meets them (PolicyMet) or breaches them."""

    rto_seconds: float
    rpo_seconds: float
    rpo_commits: int = 0


@dataclass(frozen=True)
class Scenario:
    name: str
    summary: str
    steps: tuple[Step, ...]
    rollback: tuple[Step, ...]
    objectives: Objectives
    measures_writes: bool = True

    def __post_init__(self) -> None:
        ids = [step.id for step in self.all_steps]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"scenario {self.name}: step ids repeat: {', '.join(duplicates)}")
        if sum(step.phase is Phase.INJECT for step in self.steps) != 1:
            raise ValueError(f"scenario {self.name}: exactly one step must inject the fault")

    @property
    def all_steps(self) -> tuple[Step, ...]:
        return self.steps + self.rollback

    def step(self, step_id: str) -> Step:
        for step in self.all_steps:
            if step.id == step_id:
                return step
        raise KeyError(step_id)
