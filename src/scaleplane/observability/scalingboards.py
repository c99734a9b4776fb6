"""The autoscaling dashboards: every policy at a glance, and one policy's decision story.

Series: `scaleplane.control.meters` (both the operator and the local platform) and the operator's own
`scaleplane_leader` and `scaleplane_hook_deliveries_total`.
"""

from __future__ import annotations

from typing import Any

from scaleplane.observability.boards import Board, Query

P = "namespace, policy"
ONE = 'namespace=~"$namespace", policy=~"$policy"'
TICKS = "sum by (le) (rate(scaleplane_tick_duration_seconds_bucket[$__rate_interval]))"


def overview() -> dict[str, Any]:
    board = Board(
        "scaleplane-overview",
        "Scaleplane / Autoscaling overview",
        "Every ScalingPolicy: what runs, what was asked, why, and how the loop itself is doing.",
    )
    board.stat("Policies", "Policies the loop decides for.", [Query("count(scaleplane_desired_replicas)")])
    board.stat(
        "Scales (range)",
        "Scale operations the targets accepted in the dashboard's time range.",
        [Query("sum(increase(scaleplane_scale_total[$__range]))")],
    )
    board.stat(
        "Loop errors/s",
        "Errors of any kind (target, engine, metrics, status, event, lease) per second.",
        [Query("sum(rate(scaleplane_errors_total[$__rate_interval]))")],
        unit="reqps",
    )
    board.stat(
        "Policies at max",
        "Policies whose last decision asked for their maxReplicas.",
        [
            Query(
                f"count(max by ({P}) (scaleplane_desired_replicas) >= max by ({P}) (scaleplane_max_replicas))"
            )
        ],
    )
    board.row("Capacity")
    board.timeseries(
        "Replicas: current, desired, max",
        "What each target runs, what the last decision asked for, and the policy's ceiling.",
        [
            Query(f"max by ({P}) (scaleplane_current_replicas)", "{{policy}} current"),
            Query(f"max by ({P}) (scaleplane_desired_replicas)", "{{policy}} desired"),
            Query(f"max by ({P}) (scaleplane_max_replicas)", "{{policy}} max"),
        ],
    )
    board.timeseries(
        "Metric / target",
        "Each policy metric divided by its target: above 1 asks for more replicas, below 1 for fewer.",
        [
            Query(
                f"max by ({P}, metric) (scaleplane_metric_value / scaleplane_metric_target)",
                "{{policy}} {{metric}}",
            )
        ],
    )
    board.row("Decisions")
    board.timeseries(
        "Scale events",
        "Scale operations per 5 minutes, by direction.",
        [
            Query(
                f"sum by ({P}, direction) (increase(scaleplane_scale_total[5m]))", "{{policy}} {{direction}}"
            )
        ],
    )
    board.timeseries(
        "Decisions by reason",
        "Why each decision settled where it did (reason codes: docs/engine.md).",
        [Query("sum by (reason) (rate(scaleplane_decisions_total[$__rate_interval]))", "{{reason}}")],
        unit="ops",
    )
    board.timeseries(
        "Fallbacks and held decisions",
        "Decisions made without metrics: held, or the fallback's replica count.",
        [
            Query(
                f'sum by ({P}, reason) (rate(scaleplane_decisions_total{{reason=~"metrics_unavailable|'
                f'metric_failed|fallback_hold|fallback_replicas"}}[$__rate_interval]))',
                "{{policy}} {{reason}}",
            )
        ],
        unit="ops",
    )
    board.timeseries(
        "Errors by kind",
        "Loop errors per second: target, engine, metrics, status, event, lease, tick.",
        [Query("sum by (kind) (rate(scaleplane_errors_total[$__rate_interval]))", "{{kind}}")],
        unit="ops",
    )
    board.row("The loop")
    board.timeseries(
        "Tick duration",
        "One whole tick (fetch, decide, actuate, record) for all policies: p50 and p99.",
        [
            Query(
                f"histogram_quantile(0.5, {TICKS})",
                "p50",
            ),
            Query(
                f"histogram_quantile(0.99, {TICKS})",
                "p99",
            ),
        ],
        unit="s",
    )
    board.timeseries(
        "Ticks per second",
        "How often the loop completes a tick (1 / tick interval when healthy).",
        [Query("sum(rate(scaleplane_tick_duration_seconds_count[$__rate_interval]))", "ticks/s")],
        unit="ops",
    )
    board.timeseries(
        "Queries per tick",
        "Distinct PromQL queries the loop sent in its last tick (policies sharing a query share it).",
        [Query("max by (job, instance) (scaleplane_tick_queries)", "{{instance}}")],
    )
    board.timeseries(
        "Operator: leader and hooks",
        "1 while a replica holds the Lease; outbound hook deliveries by result (operator only).",
        [
            Query("max(scaleplane_leader)", "leader"),
            Query(
                "sum by (result) (rate(scaleplane_hook_deliveries_total[$__rate_interval]))",
                "hooks {{result}}",
            ),
        ],
    )
    return board.model()


def policy() -> dict[str, Any]:
    board = Board(
        "scaleplane-policy",
        "Scaleplane / Policy detail",
        "One ScalingPolicy's decision story: its metrics against their targets and their forecast, what it "
        "asked for, why.",
    )
    board.variable("namespace", "Namespace", "label_values(scaleplane_desired_replicas, namespace)")
    board.variable(
        "policy", "Policy", 'label_values(scaleplane_desired_replicas{namespace=~"$namespace"}, policy)'
    )
    board.timeseries(
        "Replicas",
        "Current, ready and desired replicas between the policy's bounds.",
        [
            Query(f"max by ({P}) (scaleplane_current_replicas{{{ONE}}})", "{{policy}} current"),
            Query(f"max by ({P}) (scaleplane_ready_replicas{{{ONE}}})", "{{policy}} ready"),
            Query(f"max by ({P}) (scaleplane_desired_replicas{{{ONE}}})", "{{policy}} desired"),
            Query(f"max by ({P}) (scaleplane_min_replicas{{{ONE}}})", "{{policy}} min"),
            Query(f"max by ({P}) (scaleplane_max_replicas{{{ONE}}})", "{{policy}} max"),
        ],
        width=24,
    )
    board.timeseries(
        "Each metric against its target",
        "The value each metric's query returned at each tick, and the value the policy holds it at.",
        [
            Query(f"max by ({P}, metric) (scaleplane_metric_value{{{ONE}}})", "{{policy}} {{metric}}"),
            Query(f"max by ({P}, metric) (scaleplane_metric_target{{{ONE}}})", "{{metric}} target"),
        ],
    )
    board.timeseries(
        "Forecast against what came",
        "With forecast.enabled: the reading the forecast expected one startupSeconds ahead, and the reading "
        "that came. The forecast line leads; where it rose first, capacity was asked for before the load.",
        [
            Query(f"max by ({P}, metric) (scaleplane_metric_forecast{{{ONE}}})", "{{metric}} forecast"),
            Query(f"max by ({P}, metric) (scaleplane_metric_value{{{ONE}}})", "{{metric}} observed"),
        ],
    )
    board.timeseries(
        "Decisions by direction and reason",
        "Every tick's decision, per 5 minutes: up, down or none, and the rule that settled it.",
        [
            Query(
                f"sum by ({P}, direction, reason) (increase(scaleplane_decisions_total{{{ONE}}}[5m]))",
                "{{direction}} {{reason}}",
            )
        ],
    )
    board.timeseries(
        "Rules that bounded the count",
        "Decisions a behaviour rule changed: stabilization, rate limit, min/max, schedule, cooldown.",
        [
            Query(
                f"sum by ({P}, reason) (increase(scaleplane_decisions_total{{{ONE}, "
                'reason=~"stabilized|rate_limited|scaling_disabled|max_replicas|min_replicas|schedule|'
                'cooled_down|forecast"}[5m]))',
                "{{reason}}",
            )
        ],
    )
    board.timeseries(
        "Scale events",
        "Scale operations the target accepted, by direction.",
        [Query(f"sum by ({P}, direction) (increase(scaleplane_scale_total{{{ONE}}}[5m]))", "{{direction}}")],
    )
    return board.model()
