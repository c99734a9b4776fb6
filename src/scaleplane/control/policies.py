"""What the tick works on (a managed policy) and what it hands back (one outcome per policy)."""

from __future__ import annotations

from dataclasses import dataclass

from scaleplane.scaling import decisions, specs
from scaleplane.targets import protocol


@dataclass(frozen=True, order=True)
class PolicyKey:
    """Where a policy lives. In local mode the namespace is the platform's name (e.g. `local`)."""

    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass
class ManagedPolicy:
    """A validated policy, the engine state it carries between ticks, and its resolved target.

    The caller (operator or local platform) owns these objects; the controller never mutates them.
    The target must already be resolved for the policy's own namespace (see `targets.registry`).
    """

    key: PolicyKey
    spec: specs.ScalingPolicySpec
    state: decisions.ScalingState
    target: protocol.ScaleTarget


@dataclass(frozen=True)
class TickOutcome:
    """One policy's result of one tick.

    decision:    None when the tick could not get as far as deciding (target unreadable, engine error).
    state:       the state to keep for the next tick. When actuation failed it is the state from
                 before this tick, so a scale that never happened is not counted by the rate limits.
    error:       why the policy failed this tick (target or engine); None when it went through.
                 Metric errors are not listed here: they reach `decide` as failed samples, whose
                 fallback rules handle them, and show in `observation.samples`.
    scaled:      True when the target accepted a new replica count this tick.
    observation: what the decision was based on (None when the target could not be read).
    """

    key: PolicyKey
    decision: decisions.Decision | None
    state: decisions.ScalingState
    error: str | None
    scaled: bool
    observation: decisions.Observation | None = None

    @property
    def ok(self) -> bool:
        return self.error is None
