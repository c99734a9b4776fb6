"""The operator's own Prometheus metrics (prometheus_client), and the small HTTP server for /metrics.

Every name starts with `scaleplane_`; dashboards, alerts and cost reports read only these. The loop's
series are shared with the local platform (`scaleplane.control.meters`); the last four are the operator's:

    scaleplane_desired_replicas{namespace,policy}              gauge   the last decision's count
    scaleplane_current_replicas{namespace,policy}              gauge   what the target runs
    scaleplane_ready_replicas{namespace,policy}                gauge   what is ready at the tick
    scaleplane_min_replicas{namespace,policy}                  gauge   the policy's minReplicas
    scaleplane_max_replicas{namespace,policy}                  gauge   the policy's maxReplicas
    scaleplane_metric_value{namespace,policy,metric}           gauge   the query's value at the tick
    scaleplane_metric_target{namespace,policy,metric}          gauge   the value the policy holds it at
    scaleplane_metric_forecast{namespace,policy,metric}        gauge   the forecast's reading (forecast on)
    scaleplane_decisions_total{namespace,policy,direction,reason}  counter  up / down / none
    scaleplane_scale_total{namespace,policy,direction}         counter  scales the target accepted
    scaleplane_errors_total{kind}                              counter  target, engine, status, event,
                                                                        metrics, lease, tick
    scaleplane_tick_duration_seconds                           histogram one whole tick, record included
    scaleplane_tick_queries                                    gauge   distinct queries of the last tick
    scaleplane_policies{state}                                 gauge   valid / invalid policies known
    scaleplane_leader                                          gauge   1 when this replica actuates
    scaleplane_hook_deliveries_total{result}                   counter  delivered / failed / dropped
    scaleplane_status_writes_total{result}                     counter  written / skipped (unchanged)

Each operator has its own `CollectorRegistry`, so two operators in one process (tests) never clash.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge

from scaleplane.control import meters


class Instruments(meters.LoopMeters):
    """The loop's shared series (`control.meters`) plus the operator's own."""

    def __init__(self) -> None:
        super().__init__()
        r = self.registry
        self.policies = Gauge(
            "scaleplane_policies", "Policies known to this operator", ("state",), registry=r
        )
        self.leader = Gauge(
            "scaleplane_leader", "1 when this replica holds the Lease and actuates", registry=r
        )
        self.hook_deliveries = Counter(
            "scaleplane_hook_deliveries", "Outbound hook deliveries by result", ("result",), registry=r
        )
        self.status_writes = Counter(
            "scaleplane_status_writes",
            "Policy status writes: written, or skipped because nothing a user reads changed",
            ("result",),
            registry=r,
        )
