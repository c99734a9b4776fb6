"""The loop's own Prometheus series, shared by the operator and the local platform.

Both entry points run the same tick, so they export the same names and labels: one dashboard, one set of
alert rules and one cost report read either. Each caller brings its own `CollectorRegistry` (two operators
in one test process never clash) and may add series of its own to it.

    scaleplane_desired_replicas{namespace,policy}                  gauge     the last decision's count
    scaleplane_current_replicas{namespace,policy}                  gauge     what the target runs
    scaleplane_ready_replicas{namespace,policy}                    gauge     what is ready at the tick
    scaleplane_min_replicas{namespace,policy}                      gauge     the policy's bounds, so a
    scaleplane_max_replicas{namespace,policy}                      gauge     panel or alert can compare
    scaleplane_metric_value{namespace,policy,metric}               gauge     the query's value at the tick
    scaleplane_metric_target{namespace,policy,metric}              gauge     the value the policy holds it at
    scaleplane_metric_forecast{namespace,policy,metric}            gauge     the forecast's reading, startup
                                                                             seconds ahead (forecast on)
    scaleplane_decisions_total{namespace,policy,direction,reason}  counter   up / down / none
    scaleplane_scale_total{namespace,policy,direction}             counter   scales the target accepted
    scaleplane_errors_total{kind}                                  counter   engine, target, metrics, ...
    scaleplane_tick_duration_seconds                               histogram one whole tick
    scaleplane_tick_queries                                        gauge     distinct queries of the last tick
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from scaleplane.control import policies
from scaleplane.scaling import specs

POLICY = ("namespace", "policy")
TICK_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30, 60)


class LoopMeters:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = r = registry if registry is not None else CollectorRegistry()
        self.desired = Gauge(
            "scaleplane_desired_replicas", "Replicas the last decision asked for", POLICY, registry=r
        )
        self.current = Gauge("scaleplane_current_replicas", "Replicas the target runs", POLICY, registry=r)
        self.ready = Gauge("scaleplane_ready_replicas", "Replicas ready at the tick", POLICY, registry=r)
        self.min_replicas = Gauge("scaleplane_min_replicas", "The policy's minReplicas", POLICY, registry=r)
        self.max_replicas = Gauge("scaleplane_max_replicas", "The policy's maxReplicas", POLICY, registry=r)
        self.metric_value = Gauge(
            "scaleplane_metric_value", "A policy metric's value at the tick", (*POLICY, "metric"), registry=r
        )
        self.metric_target = Gauge(
            "scaleplane_metric_target",
            "The value a policy holds a metric at",
            (*POLICY, "metric"),
            registry=r,
        )
        self.metric_forecast = Gauge(
            "scaleplane_metric_forecast",
            "A policy metric's forecast reading at the tick (forecast.enabled), one startup ahead",
            (*POLICY, "metric"),
            registry=r,
        )
        self.decisions = Counter(
            "scaleplane_decisions",
            "Decisions by direction and reason",
            (*POLICY, "direction", "reason"),
            registry=r,
        )
        self.scales = Counter(
            "scaleplane_scale", "Scales the target accepted", (*POLICY, "direction"), registry=r
        )
        self.errors = Counter("scaleplane_errors", "Errors by kind", ("kind",), registry=r)
        self.tick_duration = Histogram(
            "scaleplane_tick_duration_seconds", "One whole tick", buckets=TICK_BUCKETS, registry=r
        )
        self.tick_queries = Gauge(
            "scaleplane_tick_queries", "Distinct PromQL queries the last tick sent", registry=r
        )

    def record(
        self,
        outcome: policies.TickOutcome,
        metrics: Sequence[specs.MetricSpec],
        bounds: tuple[int, int] | None = None,
    ) -> None:
        """One policy's tick: what was seen, what was decided, what was scaled, what failed.

        `bounds` is the policy's (minReplicas, maxReplicas): "stuck at max" needs the max as a series.
        """
        ns, name = outcome.key.namespace, outcome.key.name
        if bounds is not None:
            self.min_replicas.labels(ns, name).set(bounds[0])
            self.max_replicas.labels(ns, name).set(bounds[1])
        if outcome.error:
            # No decision but an observation: the engine failed; otherwise reading or scaling the target.
            kind = "engine" if outcome.decision is None and outcome.observation is not None else "target"
            self.errors.labels(kind).inc()
        if outcome.observation is not None:
            self.current.labels(ns, name).set(outcome.observation.current_replicas)
            self.ready.labels(ns, name).set(outcome.observation.ready_replicas)
            for sample in outcome.observation.samples:
                if sample.ok and sample.value is not None:
                    self.metric_value.labels(ns, name, sample.name).set(sample.value)
                else:
                    self.errors.labels("metrics").inc()
        for metric in metrics:
            self.metric_target.labels(ns, name, metric.name).set(metric.level.value)
        decision = outcome.decision
        if decision is None:
            return
        self.desired.labels(ns, name).set(decision.desired)
        for rec in decision.recommendations:
            if rec.predicted is not None:
                self.metric_forecast.labels(ns, name, rec.metric).set(rec.predicted)
            else:  # no forecast this tick (too little history): no stale line on the dashboard
                with contextlib.suppress(KeyError):
                    self.metric_forecast.remove(ns, name, rec.metric)
        self.decisions.labels(ns, name, decision.direction, decision.reason).inc()
        if outcome.scaled:
            self.scales.labels(ns, name, decision.direction).inc()
            # The target runs the new count from now on; the gauge says so before the next tick.
            self.current.labels(ns, name).set(decision.desired)

    def forget(self, namespace: str, policy: str, metrics: Sequence[str]) -> None:
        """Drop a deleted policy's series, so dashboards do not show it frozen at its last value."""
        for gauge in (self.desired, self.current, self.ready, self.min_replicas, self.max_replicas):
            with contextlib.suppress(KeyError):
                gauge.remove(namespace, policy)
        for metric in metrics:
            for gauge in (self.metric_value, self.metric_target, self.metric_forecast):
                with contextlib.suppress(KeyError):
                    gauge.remove(namespace, policy, metric)


class MetricsServer:
    """Serves a registry on /metrics (and /healthz) at `host:port`, inside the caller's event loop.

    Port 0 asks the kernel for a free port, bound at once (no window for another process to take it);
    `start` returns the real one.
    """

    def __init__(self, registry: CollectorRegistry, host: str, port: int = 0) -> None:
        self.registry = registry
        self.host, self.port = host, port
        self._runner: web.AppRunner | None = None

    async def start(self) -> int:
        app = web.Application()
        app.router.add_get("/metrics", self._metrics)
        app.router.add_get("/healthz", self._health)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self.port).start()
        self.port = int(self._runner.addresses[0][1])
        return self.port

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _metrics(self, _: web.Request) -> web.Response:
        return web.Response(
            body=generate_latest(self.registry), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )

    async def _health(self, _: web.Request) -> web.Response:
        return web.Response(text="ok")
