"""The values that flow through `decide`: what was observed, what was decided, what is remembered.

All frozen; time is a float of seconds (the epoch in production, anything monotonic in simulation).
`ScalingState` round-trips through `to_dict`/`from_dict` so the operator keeps it in the CR status and the
local platform in its state file: a restarted controller resumes its stabilization windows, no flapping.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from scaleplane.scaling import records
from scaleplane.scaling.deciding import utilization


@records.quick
@dataclass(frozen=True)
class MetricSample:
    """One metric's value at a tick; `value` is None and `error` says why when the read failed.

    A Resource metric arrives as `pods` (one sample per pod the target's selector lists, `value`
    None); the engine computes its value, the utilization, with the HPA's replica calculator.
    """

    name: str
    value: float | None
    error: str | None = None
    pods: tuple[utilization.PodSample, ...] | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.value is not None and math.isfinite(self.value)


@records.quick
@dataclass(frozen=True)
class Observation:
    """What the controller saw at one tick, for one policy."""

    at: float
    current_replicas: int  # what the target is asked to run now (spec.replicas)
    ready_replicas: int  # what is serving now (status.readyReplicas)
    samples: tuple[MetricSample, ...]

    def sample(self, name: str) -> MetricSample | None:
        for found in self.samples:  # a loop, not next(generator): this runs for every metric and tick
            if found.name == name:
                return found
        return None


@records.quick
@dataclass(frozen=True)
class MetricRecommendation:
    """What one metric asked for, and why."""

    metric: str
    value: float | None  # the observed value (None when it failed)
    target: float
    target_type: str
    replicas: int | None  # None when this metric could not recommend
    forecast_value: float | None = None  # set when a forecast raised the recommendation
    note: str = ""
    sized_value: float | None = None  # set when quantile sizing raised it (spec.sizing)
    predicted: float | None = None  # the forecast's reading for this metric, raised or not (spec.forecast)

    def sized(self, replicas: int, value: float) -> MetricRecommendation:
        """This recommendation raised by headroom (spec.sizing) to `replicas`, for the sized `value`.

        Spelt out rather than `dataclasses.replace`, which costs several times more on this hot path.
        """
        return MetricRecommendation(
            metric=self.metric,
            value=self.value,
            target=self.target,
            target_type=self.target_type,
            replicas=replicas,
            forecast_value=self.forecast_value,
            note=self.note,
            sized_value=value,
            predicted=self.predicted,
        )


@records.quick
@dataclass(frozen=True)
class Decision:
    """The engine's answer for one tick: how many replicas, and the whole reason.

    `reason` is a stable code for metrics and printer columns; `message` is the human sentence.
    `rules` lists, in order, every behaviour rule that changed the number on its way from `raw`
    (the max over metrics) to `desired`: tolerance, stabilization, rate-limit, bounds, schedule,
    activation, cooldown, fallback, forecast, paused, dry-run.
    """

    at: float
    current: int
    desired: int
    raw: int | None  # the recommendation before any behaviour rule; None when no metric could recommend
    reason: str
    message: str
    driving_metric: str | None = None
    rules: tuple[str, ...] = ()
    recommendations: tuple[MetricRecommendation, ...] = ()
    actuate: bool = True  # False under dryRun or paused: record, do not scale

    @classmethod
    def explained_later(cls, explain: Callable[[], str], **fields: Any) -> Decision:
        """A Decision whose `message` is `explain()`, computed the first time it is read.

        The engine builds one every tick and most readers (a simulation) never read the sentence;
        every reader that does (the operator, ==, repr, pickle, dataclasses.replace) gets the same text
        as if it had been passed to the constructor. `fields` are every field but `message`.
        """
        decision = cls.__new__(cls)
        for name, value in fields.items():
            object.__setattr__(decision, name, value)
        object.__setattr__(decision, "_explain", explain)
        return decision

    if not TYPE_CHECKING:  # mypy would otherwise accept any attribute name on a Decision

        def __getattr__(self, name: str) -> Any:
            # only reached when `message` was never set: a Decision made by explained_later
            explain = self.__dict__.get("_explain")
            if name != "message" or explain is None:
                raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
            message = explain()
            object.__setattr__(self, "message", message)
            return message

        def __getstate__(self) -> dict[str, Any]:
            state = dict(self.__dict__)
            state["message"] = self.message
            state.pop("_explain", None)
            return state

    @property
    def direction(self) -> str:
        if self.desired > self.current:
            return "up"
        if self.desired < self.current:
            return "down"
        return "none"


@records.quick
@dataclass(frozen=True)
class ScalingState:
    """What `decide` must remember between ticks. Small, bounded, serialisable.

    recommendations: (at, replicas) of recent stabilized-input recommendations, kept for the longest
                     stabilization window.
    scale_events:    (at, replicas_before, replicas_after) of recent changes, kept for the longest
                     rate-limit period.
    history:         (at, metric, value) of recent metric values, kept for the forecast's history.
    """

    recommendations: tuple[tuple[float, int], ...] = ()
    scale_events: tuple[tuple[float, int, int], ...] = ()
    history: tuple[tuple[float, str, float], ...] = ()
    consecutive_failures: int = 0
    last_active_at: float | None = None  # last tick where any metric was above its activation threshold
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "recommendations": [list(r) for r in self.recommendations],
            "scaleEvents": [list(e) for e in self.scale_events],
            "history": [list(h) for h in self.history],
            "consecutiveFailures": self.consecutive_failures,
            "lastActiveAt": self.last_active_at,
            "extra": dict(self.extra),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> ScalingState:
        if not data:
            return cls()
        return cls(
            recommendations=tuple((float(a), int(r)) for a, r in data.get("recommendations", ())),
            scale_events=tuple((float(a), int(b), int(c)) for a, b, c in data.get("scaleEvents", ())),
            history=tuple((float(a), str(m), float(v)) for a, m, v in data.get("history", ())),
            consecutive_failures=int(data.get("consecutiveFailures", 0)),
            last_active_at=(None if data.get("lastActiveAt") is None else float(data["lastActiveAt"])),
            extra=dict(data.get("extra") or {}),
        )
