"""What a ScalingPolicy's `status` says after a tick. Pure: outcome + previous status in, status out.

    status:
      target: Deployment/worker            (the printer column "Target")
      currentReplicas: 3                   what the target ran at the tick
      desiredReplicas: 5                   what the decision asked for
      lastScaleTime: 2026-...Z             the last time the target accepted a new count
      lastDecision: {time, current, desired, raw, direction, reason, message, drivingMetric, rules,
                     actuated, metrics: [{name, value, target, targetType, replicas, forecastValue,
                     sizedValue, note}]}   (forecastValue/sizedValue: the value a forecast or quantile
                     sizing raised the recommendation to, else null)
      conditions: Ready, ScalingActive, ScalingLimited, FallbackActive, StateRestored (type/status/
                  reason/message/lastTransitionTime; the time moves only when the status flips)
      engineState: the engine's ScalingState (to_dict): what a restarted operator resumes from
      observedGeneration, error (the last tick's error, absent when it went through)

Condition table (reason codes from scaling.reasons):
    Ready           False: InvalidPolicy, TargetUnavailable, EngineFailed;  True: Reconciled
    ScalingActive   False: Paused, DryRun (decided, not actuated), MetricsUnavailable (no metric could
                    be read this tick, whatever the fallback rule then did);
                    True: ValidMetrics (every metric read), SomeMetricsFailed (the others decided)
    ScalingLimited  True when min/max replicas, a rate limit or a disabled direction bounded the count
    FallbackActive  True when the fallback rule decided
    StateRestored   how the engine state was read back when the operator (re)loaded the policy:
                    True: Resumed (from status.engineState), Fresh (there was none);
                    False: MalformedStatus (the message names each bad field; a bad engineState was
                    reset to a fresh state). It changes only at the next load (restart, takeover).
"""

from __future__ import annotations

import datetime
from typing import Any

from scaleplane.control import policies
from scaleplane.scaling import decisions, reasons, specs

LIMIT_RULES = {
    reasons.RULE_MAX_REPLICAS: "TooManyReplicas",
    reasons.RULE_MIN_REPLICAS: "TooFewReplicas",
    reasons.RULE_RATE_LIMIT: "RateLimited",
    reasons.RULE_SCALING_DISABLED: "ScalingDisabled",
}


def iso(at: float) -> str:
    return datetime.datetime.fromtimestamp(at, tz=datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def condition(
    kind: str, ok: bool, reason: str, message: str, previous: dict[str, Any], at: float
) -> dict[str, Any]:
    status = "True" if ok else "False"
    old = next((c for c in previous.get("conditions") or [] if c.get("type") == kind), None)
    since = old["lastTransitionTime"] if old and old.get("status") == status else iso(at)
    return {"type": kind, "status": status, "reason": reason, "message": message, "lastTransitionTime": since}


def decision_dict(decision: decisions.Decision, actuated: bool) -> dict[str, Any]:
    return {
        "time": iso(decision.at),
        "current": decision.current,
        "desired": decision.desired,
        "raw": decision.raw,
        "direction": decision.direction,
        "reason": decision.reason,
        "message": decision.message,
        "drivingMetric": decision.driving_metric,
        "rules": list(decision.rules),
        "actuated": actuated,
        "metrics": [
            {
                "name": r.metric,
                "value": r.value,
                "target": r.target,
                "targetType": r.target_type,
                "replicas": r.replicas,
                "forecastValue": r.forecast_value,
                "sizedValue": r.sized_value,
                "note": r.note,
            }
            for r in decision.recommendations
        ],
    }


def after_tick(
    spec: specs.ScalingPolicySpec,
    outcome: policies.TickOutcome,
    previous: dict[str, Any],
    *,
    generation: int | None,
    at: float,
    restored: tuple[bool, str, str] = (True, "Fresh", ""),
) -> dict[str, Any]:
    """The whole new status (kept fields from `previous` where this tick says nothing).

    `previous` must have been read back through operator.records.restoring (or written by this function).
    """
    state_condition = condition("StateRestored", *restored, previous, at)
    status: dict[str, Any] = {
        "target": f"{spec.target_ref.kind}/{spec.target_ref.name}",
        "observedGeneration": generation,
        "engineState": outcome.state.to_dict(),
        "lastScaleTime": iso(at) if outcome.scaled else previous.get("lastScaleTime"),
        "error": outcome.error,
    }
    decision = outcome.decision
    observation = outcome.observation
    if observation is not None:
        status["currentReplicas"] = observation.current_replicas
    if decision is None:
        status["desiredReplicas"] = previous.get("desiredReplicas")
        status["lastDecision"] = previous.get("lastDecision")
        why = "TargetUnavailable" if observation is None else "EngineFailed"
        status["conditions"] = [
            condition("Ready", False, why, outcome.error or "", previous, at),
            condition("ScalingActive", False, why, outcome.error or "", previous, at),
            *[
                c
                for c in previous.get("conditions") or []
                if c.get("type") in ("ScalingLimited", "FallbackActive")
            ],
            state_condition,
        ]
        return status
    status["desiredReplicas"] = decision.desired
    status["lastDecision"] = decision_dict(decision, outcome.scaled)
    ready_ok = outcome.error is None
    # What is true of the metrics, not of the rule that then decided: during a long outage the fallback
    # rule decides (FallbackActive=True), and still no metric was read (ScalingActive=False).
    samples = observation.samples if observation is not None else ()
    failed = [s.name for s in samples if not s.ok]
    active, active_reason, active_message = True, "ValidMetrics", decision.message
    if decision.reason == reasons.PAUSED:
        active, active_reason = False, "Paused"
    elif decision.reason == reasons.METRICS_UNAVAILABLE or (samples and len(failed) == len(samples)):
        active, active_reason = False, "MetricsUnavailable"
        active_message = "no metric could be read: " + ", ".join(failed) if failed else decision.message
    elif spec.dry_run:
        active, active_reason = False, "DryRun"
    elif failed:
        active_reason = "SomeMetricsFailed"
        active_message = "failed: " + ", ".join(failed) + "; " + decision.message
    limits = [LIMIT_RULES[r] for r in decision.rules if r in LIMIT_RULES]
    fallback = reasons.RULE_FALLBACK in decision.rules or decision.reason.startswith("fallback")
    status["conditions"] = [
        condition(
            "Ready",
            ready_ok,
            "Reconciled" if ready_ok else "TargetUnavailable",
            outcome.error or "",
            previous,
            at,
        ),
        condition("ScalingActive", active, active_reason, active_message, previous, at),
        condition(
            "ScalingLimited",
            bool(limits),
            limits[0] if limits else "WithinLimits",
            decision.message if limits else "",
            previous,
            at,
        ),
        condition(
            "FallbackActive",
            fallback,
            decision.reason if fallback else "MetricsHealthy",
            decision.message if fallback else "",
            previous,
            at,
        ),
        state_condition,
    ]
    return status


def invalid(error: str, previous: dict[str, Any], *, generation: int | None, at: float) -> dict[str, Any]:
    """The status of a policy the operator refuses to run: Ready False, the loop skips it."""
    return {
        "observedGeneration": generation,
        "error": error,
        "conditions": [
            condition("Ready", False, "InvalidPolicy", error, previous, at),
            condition("ScalingActive", False, "InvalidPolicy", error, previous, at),
        ],
    }


READABLE_DECISION = ("current", "desired", "raw", "direction", "reason", "drivingMetric", "rules", "actuated")
READABLE = ("target", "observedGeneration", "currentReplicas", "desiredReplicas", "lastScaleTime", "error")


def readable(status: dict[str, Any]) -> tuple[Any, ...]:
    """What a user reads in a status (printer columns, `describe`, alerts on conditions), without what
    moves every tick anyway (metric values, sentences, times, the engine state): when this is equal,
    a status write says nothing new. `raw` is in it so a moved recommendation reaches engineState."""
    decision = status.get("lastDecision") or {}
    return (
        tuple(repr(status.get(name)) for name in READABLE),
        tuple(repr(decision.get(name)) for name in READABLE_DECISION),
        tuple((c.get("type"), c.get("status"), c.get("reason")) for c in status.get("conditions") or []),
    )
