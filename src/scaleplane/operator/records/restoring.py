"""Read back what a ScalingPolicy's `status` holds, trusting nothing. Pure: raw status in, values out.

Anyone with `patch` on `scalingpolicies/status` can write anything there, and an older or newer
operator may have written another shape. What the operator reads back from a status is

    engineState   what the engine resumes from (stabilization windows, scale events, history)
    conditions    whose lastTransitionTime is kept while the status does not flip
    lastDecision  whose reason says whether this tick's reason is news (Events, log level)
    lastScaleTime, desiredReplicas   carried over when a tick does not decide

A field of the wrong shape is dropped, never half-used: a malformed `engineState` resets the engine to
a fresh state (it then seeds itself from the current count, the way a new policy starts), and the
problems found are returned as sentences naming the field and what was wrong, for the Warning Event
`StateReset` and the `StateRestored=False` condition. Nothing here raises on any JSON value.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from scaleplane.scaling import decisions


@dataclass(frozen=True)
class Restored:
    """A status fit to build on, the engine state to resume from, and what had to be dropped."""

    status: dict[str, Any]
    state: decisions.ScalingState
    problems: tuple[str, ...]
    had_state: bool  # True when status carried an engineState (good or not)


def restore(raw: Any) -> Restored:
    if raw is None:
        return Restored({}, decisions.ScalingState(), (), False)
    if not isinstance(raw, dict):
        return Restored({}, decisions.ScalingState(), (f"status: not an object, was {_show(raw)}",), False)
    problems: list[str] = []
    status: dict[str, Any] = {}
    for name, value in raw.items():
        problem = _check(name, value)
        if problem is None:
            status[name] = value
        else:
            problems.append(f"status.{name}: {problem}")
    state, state_problem = engine_state(raw.get("engineState"))
    if state_problem is not None:
        problems.append(f"status.engineState: {state_problem}")
        status.pop("engineState", None)
    return Restored(status, state, tuple(problems), raw.get("engineState") is not None)


def engine_state(raw: Any) -> tuple[decisions.ScalingState, str | None]:
    """The state `raw` describes, or a fresh one and why `raw` could not be used."""
    if raw is None:
        return decisions.ScalingState(), None
    if not isinstance(raw, dict):
        return decisions.ScalingState(), f"not an object, was {_show(raw)}"
    try:
        state = decisions.ScalingState.from_dict(raw)
    except Exception as exc:  # any shape error: from_dict unpacks lists and converts numbers
        return decisions.ScalingState(), f"does not parse ({type(exc).__name__}: {str(exc)[:120]})"
    numbers = [
        *(v for r in state.recommendations for v in r),
        *(v for e in state.scale_events for v in e),
        *(h[0] for h in state.history),
        *(h[2] for h in state.history),
        state.consecutive_failures,
        *(() if state.last_active_at is None else (state.last_active_at,)),
    ]
    if not all(math.isfinite(v) for v in numbers):
        return decisions.ScalingState(), "holds a number that is not finite (NaN or Inf)"
    counts = [*(r[1] for r in state.recommendations), *(v for e in state.scale_events for v in e[1:])]
    if state.consecutive_failures < 0 or any(c < 0 for c in counts):
        return decisions.ScalingState(), "holds a negative replica count or failure count"
    return state, None


def _check(name: str, value: Any) -> str | None:
    """Why `value` cannot stand as status.`name`; None when it can (or nobody reads it back)."""
    if value is None or name == "engineState":
        return None
    if name == "conditions":
        if not isinstance(value, list) or not all(_is_condition(c) for c in value):
            return "not a list of conditions with type, status and lastTransitionTime strings"
    elif name == "lastDecision":
        if not isinstance(value, dict) or not isinstance(value.get("reason", ""), str):
            return "not an object with a string reason"
    elif name in ("desiredReplicas", "currentReplicas", "observedGeneration"):
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            return f"not a count, was {_show(value)}"
    elif name in ("lastScaleTime", "target", "error") and not isinstance(value, str):
        return f"not a string, was {_show(value)}"
    return None


def _is_condition(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and all(isinstance(value.get(k), str) for k in ("type", "status", "lastTransitionTime"))
        and isinstance(value.get("reason", ""), str)
        and isinstance(value.get("message", ""), str)
    )


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
