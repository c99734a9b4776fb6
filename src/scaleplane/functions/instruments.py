"""The gateway's Prometheus series, per function; they exist (at 0) as soon as the function is known.

All carry the labels {namespace, function}:

    scaleplane_gateway_inflight_requests          gauge      calls forwarded, not answered yet
    scaleplane_gateway_queued_requests            gauge      calls waiting for an instance
    scaleplane_gateway_ready_instances            gauge      instances the gateway routes to
    scaleplane_gateway_requests_total{code}       counter    answered calls by HTTP status (the rate)
    scaleplane_gateway_errors_total{reason}       counter    QueueFull, TimedOut, Unreachable, HandlerError
    scaleplane_gateway_request_duration_seconds   histogram  the whole call, queueing included
    scaleplane_gateway_cold_starts_total          counter    wakes from zero the gateway asked for
    scaleplane_gateway_cold_start_seconds         histogram  first call queued at zero -> an instance ready

A function's scaling policy reads concurrency as in-flight + queued (Knative's concurrency metric counts
the requests its activator holds, too), so a function at zero with calls waiting asks for instances.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

LABELS = ("namespace", "function")
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
COLD_BUCKETS = (0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 30, 60)
ERROR_REASONS = ("QueueFull", "TimedOut", "Unreachable", "HandlerError")


def concurrency_query(namespace: str, name: str) -> str:
    """The PromQL a function's policy holds per instance: calls in flight plus calls queued, summed over
    every gateway replica (a cluster runs several; each exports its own share, told apart by its
    `instance`/`pod` labels, which the sum drops).

    One selector over both gauges rather than `sum(inflight) + sum(queued)`: PromQL's `+` answers
    nothing when either side has no series, so a missing gauge would blank the whole metric."""
    names = "scaleplane_gateway_(inflight|queued)_requests"
    return f'sum({{__name__=~"{names}",namespace="{namespace}",function="{name}"}})'


class GatewayMeters:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = r = registry if registry is not None else CollectorRegistry()
        self.inflight = Gauge(
            "scaleplane_gateway_inflight_requests", "Calls forwarded, no answer yet", LABELS, registry=r
        )
        self.queued = Gauge(
            "scaleplane_gateway_queued_requests", "Calls waiting for an instance", LABELS, registry=r
        )
        self.ready = Gauge(
            "scaleplane_gateway_ready_instances", "Instances the gateway routes to", LABELS, registry=r
        )
        self.requests = Counter(
            "scaleplane_gateway_requests", "Answered calls by HTTP status", [*LABELS, "code"], registry=r
        )
        self.errors = Counter(
            "scaleplane_gateway_errors", "Failed calls by reason", [*LABELS, "reason"], registry=r
        )
        self.duration = Histogram(
            "scaleplane_gateway_request_duration_seconds", "Whole call, queueing included", LABELS,
            buckets=LATENCY_BUCKETS, registry=r,
        )  # fmt: skip
        self.cold_starts = Counter(
            "scaleplane_gateway_cold_starts", "Wakes from zero asked for", LABELS, registry=r
        )
        self.cold_seconds = Histogram(
            "scaleplane_gateway_cold_start_seconds", "First call queued at zero -> an instance ready", LABELS,
            buckets=COLD_BUCKETS, registry=r,
        )  # fmt: skip

    def known(self, namespace: str, name: str) -> None:
        """Create every series of a function at 0, so queries and alerts see it before its first call."""
        labels = {"namespace": namespace, "function": name}
        for gauge in (self.inflight, self.queued, self.ready):
            gauge.labels(**labels)
        self.duration.labels(**labels)
        self.cold_starts.labels(**labels)
        self.cold_seconds.labels(**labels)
        for reason in ERROR_REASONS:
            self.errors.labels(**labels, reason=reason)
        self.requests.labels(**labels, code="200")

    def forget(self, namespace: str, name: str) -> None:
        for metric in (
            self.inflight,
            self.queued,
            self.ready,
            self.duration,
            self.cold_starts,
            self.cold_seconds,
        ):
            metric.remove(namespace, name)
        for reason in ERROR_REASONS:
            self.errors.remove(namespace, name, reason)
        for labels in [s.labels for m in self.requests.collect() for s in m.samples]:
            if labels.get("namespace") == namespace and labels.get("function") == name and "code" in labels:
                self.requests.remove(namespace, name, labels["code"])
