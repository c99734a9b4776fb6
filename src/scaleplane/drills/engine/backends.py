"""The seam between the drill engine and a target: one backend per target behind `Backend`, and the
registry the command line fills (a backend on the entry layer cannot be imported from here).

A backend performs a step by its id: it does the step and returns when the step's expectation holds, or
reports failure when `timeout` (seconds on the drill's clock) passed first. It never raises for an
expectation not met: that is an `Outcome(ok=False)`, the engine's stop condition.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from scaleplane.drills.engine import probes


@dataclass(frozen=True)
class Outcome:
    ok: bool
    observed: str
    marks: dict[str, float] = field(default_factory=dict)
    """Moments worth a line on the timeline (e.g. "failover": when the new leader was seen)."""


class Backend(Protocol):
    target: str

    def supports(self, scenario: str) -> bool: ...

    def commands(self, step_id: str) -> list[str]:
        """What an operator types for this step on this target (printed by `plan`, in runbooks)."""
        ...

    def perform(self, step_id: str, timeout: float) -> Outcome: ...

    def probe_log(self) -> probes.ProbeLog:
        """Everything the probes saw so far, and the data check once it ran."""
        ...


BackendFactory = Callable[..., Backend]


class Registry:
    """Target name -> backend factory, in the order they were registered."""

    def __init__(self) -> None:
        self._factories: dict[str, BackendFactory] = {}

    def register(self, target: str, factory: BackendFactory) -> None:
        if target in self._factories:
            raise ValueError(f"a drill backend for target {target!r} is already registered")
        self._factories[target] = factory

    def targets(self) -> list[str]:
        return list(self._factories)

    def create(self, target: str, **options: object) -> Backend:
        try:
            factory = self._factories[target]
        except KeyError:
            known = ", ".join(self._factories) or "none"
            raise KeyError(f"no drill backend for target {target!r} (known: {known})") from None
        return factory(**options)
