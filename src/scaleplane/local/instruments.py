"""The local controller's own Prometheus metrics, under the operator's names (dashboards read both).

Same names and labels as `scaleplane.operator.instruments` (which this layer may not import), plus
`scaleplane_ready_replicas`, which the local platform knows exactly and the report plots:

    scaleplane_desired_replicas{namespace,policy}       scaleplane_current_replicas{namespace,policy}
    scaleplane_ready_replicas{namespace,policy}         scaleplane_metric_value{namespace,policy,metric}
    scaleplane_metric_target{namespace,policy,metric}   scaleplane_decisions_total{...,direction,reason}
    scaleplane_scale_total{namespace,policy,direction}  scaleplane_errors_total{kind}
    scaleplane_tick_duration_seconds

Served by a small aiohttp server on 127.0.0.1 inside the controller's event loop; Prometheus scrapes it
as job `scaleplane`.
"""

from __future__ import annotations

import socket

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from scaleplane.control import policies
from scaleplane.local import ports

POLICY = ("namespace", "policy")


class Instruments:
    def __init__(self) -> None:
        self.registry = r = CollectorRegistry()
        self.desired = Gauge(
            "scaleplane_desired_replicas", "Replicas the last decision asked for", POLICY, registry=r
        )
        self.current = Gauge(
            "scaleplane_current_replicas", "Replicas the target ran at the tick", POLICY, registry=r
        )
        self.ready = Gauge("scaleplane_ready_replicas", "Replicas ready at the tick", POLICY, registry=r)
        self.metric_value = Gauge(
            "scaleplane_metric_value", "A policy metric's value at the tick", (*POLICY, "metric"), registry=r
        )
        self.metric_target = Gauge(
            "scaleplane_metric_target",
            "The value a policy holds a metric at",
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
            "scaleplane_tick_duration_seconds",
            "One whole tick",
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=r,
        )

    def record(self, managed: policies.ManagedPolicy, outcome: policies.TickOutcome) -> None:
        labels = (outcome.key.namespace, outcome.key.name)
        if outcome.error is not None:
            self.errors.labels("target" if outcome.decision is None else "actuate").inc()
        observation = outcome.observation
        if observation is not None:
            self.current.labels(*labels).set(observation.current_replicas)
            self.ready.labels(*labels).set(observation.ready_replicas)
            for sample in observation.samples:
                if sample.ok and sample.value is not None:
                    self.metric_value.labels(*labels, sample.name).set(sample.value)
        for metric in managed.spec.metrics:
            self.metric_target.labels(*labels, metric.name).set(metric.target.value)
        decision = outcome.decision
        if decision is None:
            return
        self.desired.labels(*labels).set(decision.desired)
        self.decisions.labels(*labels, decision.direction, decision.reason).inc()
        if outcome.scaled:
            self.scales.labels(*labels, decision.direction).inc()
            # The target runs the new count from now on; the gauge says so before the next tick.
            self.current.labels(*labels).set(decision.desired)


class MetricsServer:
    def __init__(self, instruments: Instruments) -> None:
        self.instruments = instruments
        self.port = 0
        self._runner: web.AppRunner | None = None

    async def start(self) -> int:
        app = web.Application()
        app.router.add_get("/metrics", self._metrics)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        # Bound here on port 0 and handed over: no window for another process to take the port.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind((ports.HOST, 0))
        self.port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()
        return self.port

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _metrics(self, _: web.Request) -> web.Response:
        body = generate_latest(self.instruments.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
