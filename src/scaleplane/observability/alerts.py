"""The autoscaling alerts: the loop's health, the capacity it manages, the data tier and the functions.

Thresholds are the seed teams' (docs/observability.md): replica lag under 30 s, cache hit rate over
90 %; functions: under 5 % of calls failing, cold starts under 5 s. Each alert names the runbook under
runbooks/ that says what it means and what to do.
"""

from __future__ import annotations

from scaleplane.observability import rules

BY_POLICY = "by (namespace, policy)"
# The loop's scrape job: `scaleplane` on the local platform, `scaleplane-operator` in a cluster (the
# PodMonitor that `infra.monitoring` deploys relabels it so).
LOOP_JOBS = 'job=~"scaleplane|scaleplane-operator"'
REPLICA_LAG_SECONDS = 30
CACHE_HIT_RATIO = 0.9
FUNCTION_ERROR_RATIO = 0.05
COLD_START_SECONDS = 5

_ratio = f"max {BY_POLICY} (scaleplane_metric_value / scaleplane_metric_target)"
_hit_rate = (
    "sum by (instance) (rate(redis_keyspace_hits_total[5m]))"
    " / (sum by (instance) (rate(redis_keyspace_hits_total[5m]))"
    " + sum by (instance) (rate(redis_keyspace_misses_total[5m])))"
)

AUTOSCALING = rules.Group(
    "scaleplane.autoscaling",
    (
        rules.Alert(
            "ScaleplanePolicyAtMax",
            expr=(
                f"max {BY_POLICY} (scaleplane_desired_replicas) >= max {BY_POLICY} (scaleplane_max_replicas)"
                f" and {_ratio} > 1"
            ),
            signal=(
                f"max {BY_POLICY} (scaleplane_desired_replicas) / max {BY_POLICY} (scaleplane_max_replicas)"
            ),
            hold="15m",
            severity="warning",
            summary="A scaling policy is stuck at its maxReplicas while its metric is still over target.",
            description=(
                "{{ $labels.namespace }}/{{ $labels.policy }} asks for its maximum and its metrics are still "
                "above target: the load needs more capacity than the policy allows."
            ),
        ),
        rules.Alert(
            "ScaleplaneCapacityNotReady",
            expr=(
                f"max {BY_POLICY} (scaleplane_ready_replicas) < max {BY_POLICY} (scaleplane_desired_replicas)"
            ),
            signal=(
                f"max {BY_POLICY} (scaleplane_desired_replicas) - max {BY_POLICY} (scaleplane_ready_replicas)"
            ),
            hold="10m",
            severity="warning",
            summary="Replicas asked for by a scale-up are not ready.",
            description=(
                "{{ $labels.namespace }}/{{ $labels.policy }} has had fewer ready replicas than it asked for "
                "over the whole hold: new capacity does not come up (image pull, scheduling, bootstrap)."
            ),
        ),
        rules.Alert(
            "ScaleplaneMetricsFailing",
            expr=(
                'sum by (namespace, policy) (rate(scaleplane_decisions_total{reason=~"metrics_unavailable|'
                'metric_failed|fallback_hold|fallback_replicas"}[5m])) > 0'
            ),
            signal="sum by (namespace, policy) (rate(scaleplane_decisions_total[5m]))",
            hold="5m",
            severity="warning",
            summary="A policy cannot read its metrics: it holds or runs its fallback.",
            description=(
                "{{ $labels.namespace }}/{{ $labels.policy }} decides without its metrics "
                "(reason metrics_unavailable, metric_failed or fallback): scaling follows no load."
            ),
        ),
        rules.Alert(
            "ScaleplaneScalingFlapping",
            expr=(
                f'sum {BY_POLICY} (increase(scaleplane_scale_total{{direction="up"}}[30m])) >= 3'
                f' and sum {BY_POLICY} (increase(scaleplane_scale_total{{direction="down"}}[30m])) >= 3'
            ),
            signal=f"sum {BY_POLICY} (increase(scaleplane_scale_total[30m]))",
            hold="5m",
            severity="warning",
            summary="A policy scales up and down again and again.",
            description=(
                "{{ $labels.namespace }}/{{ $labels.policy }} scaled up at least 3 times and down at least 3 "
                "times in 30 minutes: its stabilization window or tolerance is too short for this load."
            ),
        ),
        rules.Alert(
            "ScaleplaneTargetErrors",
            expr='sum(rate(scaleplane_errors_total{kind="target"}[5m])) > 0',
            signal="sum(rate(scaleplane_errors_total[5m]))",
            hold="10m",
            severity="warning",
            summary="The loop fails to read or scale a target.",
            description="Calls to targets (/scale, RDS, local pools) have failed for 10 minutes.",
        ),
    ),
)

OPERATOR = rules.Group(
    "scaleplane.operator",
    (
        rules.Alert(
            "ScaleplaneOperatorDown",
            expr=f"absent(up{{{LOOP_JOBS}}} == 1)",
            signal=f"max(up{{{LOOP_JOBS}}})",
            hold="5m",
            severity="critical",
            summary="No scaleplane operator answers on /metrics.",
            description="Prometheus scraped no healthy scaleplane operator for 5 minutes: nothing scales.",
        ),
        rules.Alert(
            "ScaleplaneOperatorNotLeading",
            expr="max(scaleplane_leader) == 0",
            signal="max(scaleplane_leader)",
            hold="5m",
            severity="critical",
            summary="Operators run but none holds the Lease: nothing scales.",
            description="Every scaleplane operator replica reports scaleplane_leader 0 for 5 minutes.",
        ),
        rules.Alert(
            "ScaleplaneHookDeliveriesFailing",
            expr='sum(rate(scaleplane_hook_deliveries_total{result=~"failed|dropped"}[5m])) > 0',
            signal="sum(rate(scaleplane_hook_deliveries_total[5m]))",
            hold="10m",
            severity="warning",
            summary="Decision hooks are not delivered.",
            description="Outbound hook deliveries have failed or been dropped for 10 minutes.",
        ),
    ),
)

DATA = rules.Group(
    "scaleplane.data",
    (
        rules.Alert(
            "ScaleplaneDatabaseNoPrimary",
            expr="max by (scope) (patroni_primary) == 0",
            signal="max by (scope) (patroni_primary)",
            hold="1m",
            severity="critical",
            summary="No member of the Patroni cluster {{ $labels.scope }} is the primary: writes fail.",
            description=(
                "Every Patroni member that answers reports patroni_primary 0 for 1 minute: the leader is "
                "gone and no standby was promoted yet."
            ),
        ),
        rules.Alert(
            "ScaleplaneReplicaLagHigh",
            expr=f"max by (namespace, instance) (cnpg_pg_replication_lag) > {REPLICA_LAG_SECONDS}",
            signal="max by (namespace, instance) (cnpg_pg_replication_lag)",
            hold="5m",
            severity="warning",
            summary=f"A PostgreSQL read replica is more than {REPLICA_LAG_SECONDS} s behind the primary.",
            description=(
                "{{ $labels.instance }} replays {{ $value | humanizeDuration }} behind the primary: "
                "reads routed to it see stale data."
            ),
        ),
        rules.Alert(
            "ScaleplaneCacheHitRateLow",
            expr=f"({_hit_rate}) < {CACHE_HIT_RATIO}",
            signal=_hit_rate,
            hold="15m",
            severity="warning",
            summary=f"The Redis cache hit rate is under {CACHE_HIT_RATIO:.0%}.",
            description=(
                "{{ $labels.instance }} answers {{ $value | humanizePercentage }} of lookups from cache: "
                "the database takes the misses."
            ),
        ),
    ),
)

_BY_FUNCTION = "by (namespace, function)"
_failed = f'sum {_BY_FUNCTION} (rate(scaleplane_gateway_errors_total{{reason!="QueueFull"}}[5m]))'
_calls = f"sum {_BY_FUNCTION} (rate(scaleplane_gateway_requests_total[5m]))"
# An hour's window: cold starts are rare, and one slow start should page no one.
_cold_p90 = (
    "histogram_quantile(0.9, sum by (namespace, function, le)"
    " (rate(scaleplane_gateway_cold_start_seconds_bucket[1h])))"
)

# The function gateway's series (`scaleplane.functions.instruments`), present at 0 for every function.
FUNCTIONS = rules.Group(
    "scaleplane.functions",
    (
        rules.Alert(
            "ScaleplaneFunctionErrors",
            expr=f"{_failed} / {_calls} > {FUNCTION_ERROR_RATIO}",
            signal=f"{_failed} / {_calls}",
            hold="5m",
            severity="warning",
            summary=f"More than {FUNCTION_ERROR_RATIO:.0%} of a function's calls fail.",
            description=(
                "{{ $labels.namespace }}/{{ $labels.function }} fails {{ $value | humanizePercentage }} of "
                "its calls (5xx from the handler, timeouts, broken connections)."
            ),
        ),
        rules.Alert(
            "ScaleplaneFunctionQueueFull",
            expr=f'sum {_BY_FUNCTION} (rate(scaleplane_gateway_errors_total{{reason="QueueFull"}}[5m])) > 0',
            signal=f'sum {_BY_FUNCTION} (rate(scaleplane_gateway_errors_total{{reason="QueueFull"}}[5m]))',
            hold="5m",
            severity="warning",
            summary="The gateway refuses a function's calls with 429: its queue is full.",
            description=(
                "{{ $labels.namespace }}/{{ $labels.function }} refuses {{ $value | humanize }} calls/s "
                "(QueueFull): more calls wait than the gateway's maxQueue while instances are busy or "
                "waking."
            ),
        ),
        rules.Alert(
            "ScaleplaneFunctionColdStartSlow",
            expr=f"{_cold_p90} > {COLD_START_SECONDS}",
            signal=_cold_p90,
            hold="5m",
            severity="warning",
            summary=f"A function's cold starts take more than {COLD_START_SECONDS} s (p90 over an hour).",
            description=(
                "{{ $labels.namespace }}/{{ $labels.function }} needs {{ $value | humanizeDuration }} from "
                "the first call at zero to a ready instance: its callers wait that long."
            ),
        ),
    ),
)

GROUPS = (AUTOSCALING, OPERATOR, DATA, FUNCTIONS)
