"""The stable reason codes of a Decision, and the rule names listed in `Decision.rules`.

`Decision.reason` is the code of what settled the number (the last rule that changed it, or the
metrics themselves); dashboards, printer columns and alerts key on these, so they never change meaning.
Every code is documented in docs/engine.md, section "Reason codes".
"""

from __future__ import annotations

# The metrics alone decided.
SCALE_UP = "scale_up"  # a metric is above its target: more replicas
SCALE_DOWN = "scale_down"  # every metric is below its target: fewer replicas
AT_TARGET = "at_target"  # the metrics ask for the current count (or sit within the tolerance band)

# A behaviour rule changed the metrics' number.
STABILIZED = "stabilized"  # a stabilization window held the count
RATE_LIMITED = "rate_limited"  # a rate-limit policy capped the change
SCALING_DISABLED = "scaling_disabled"  # selectPolicy Disabled forbids this direction
MAX_REPLICAS = "max_replicas"  # capped at maxReplicas (also: current was above it)
MIN_REPLICAS = "min_replicas"  # raised to minReplicas (also: current was below it)
SCHEDULE = "schedule"  # raised to an open schedule window's floor
FORECAST = "forecast"  # the forecast, not the observed value, asked for this count

# Zero and back (KEDA).
ACTIVATED = "activated"  # at zero, a metric went above its activation threshold: wake up
IDLE = "idle"  # at zero, no metric above its activation threshold: stay at zero
COOLED_DOWN = "cooled_down"  # no metric active for cooldownSeconds: scale to zero

# Failures.
METRICS_UNAVAILABLE = "metrics_unavailable"  # no metric could be read: hold the current count
METRIC_FAILED = "metric_failed"  # a metric failed: scaling down is not safe, hold
FALLBACK_HOLD = "fallback_hold"  # failures reached fallback.failureThreshold: hold
FALLBACK_REPLICAS = (
    "fallback_replicas"  # failures reached the threshold: failed metrics ask fallback.replicas
)

# Operator switches.
PAUSED = "paused"  # spec.paused: computed, recorded, not carried out

# Rule names for Decision.rules (in the order they applied).
RULE_TOLERANCE = "tolerance"
RULE_FORECAST = "forecast"
RULE_QUANTILE = "quantile"  # spec.sizing raised the recommendation for a quantile of recent load
RULE_SQRT_STAFFING = "sqrt_staffing"  # spec.sizing (method sqrt) added beta x sqrt(n) spare replicas
RULE_BURST = "burst"  # spec.burst held the count at a burst's peak (no scale-down meanwhile)
RULE_STABILIZATION = "stabilization"
RULE_RATE_LIMIT = "rate_limit"
RULE_SCALING_DISABLED = "scaling_disabled"
RULE_MAX_REPLICAS = "max_replicas"
RULE_MIN_REPLICAS = "min_replicas"
RULE_SCHEDULE = "schedule"
RULE_ACTIVATION = "activation"
RULE_COOLDOWN = "cooldown"
RULE_FALLBACK = "fallback"
RULE_METRIC_FAILED = "metric_failed"
RULE_PAUSED = "paused"
RULE_DRY_RUN = "dry_run"

ALL_REASONS = (
    SCALE_UP,
    SCALE_DOWN,
    AT_TARGET,
    STABILIZED,
    RATE_LIMITED,
    SCALING_DISABLED,
    MAX_REPLICAS,
    MIN_REPLICAS,
    SCHEDULE,
    FORECAST,
    ACTIVATED,
    IDLE,
    COOLED_DOWN,
    METRICS_UNAVAILABLE,
    METRIC_FAILED,
    FALLBACK_HOLD,
    FALLBACK_REPLICAS,
    PAUSED,
)
