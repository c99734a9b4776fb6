"""The Controller: one tick over every policy at once.

Per tick: every distinct query of every policy goes to the metrics source in ONE fetch (the source
dedupes too and bounds its own concurrency), and with it, when any policy has a Resource metric, one
set of per-pod queries for all of them (metrics.pods: about ten, whatever the number of policies);
each target is read with bounded concurrency (a Kubernetes target also gives its pods' selector); `decide`
runs per policy; a target is asked for a new count only when the decision says so (not under
dryRun/paused) and the count differs, and only while `may_actuate()` says so, asked right before each
write (the operator's Lease fence: a replica that lost the Lease mid-tick stops at its next write).
Per-policy failures become error outcomes, never exceptions.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from typing import TypeVar

from scaleplane.control import policies, retrying
from scaleplane.metrics import pods, sources
from scaleplane.scaling import decisions, specs
from scaleplane.scaling.deciding import engine
from scaleplane.targets import protocol

log = logging.getLogger(__name__)
T = TypeVar("T")

Decide = Callable[
    [specs.ScalingPolicySpec, decisions.Observation, decisions.ScalingState, float],
    tuple[decisions.Decision, decisions.ScalingState],
]


def distinct_queries(managed: Sequence[policies.ManagedPolicy]) -> set[str]:
    """The queries one tick sends: each distinct PromQL of every policy, once."""
    return {metric.query for policy in managed for metric in policy.spec.metrics if metric.query is not None}


def pod_queries(managed: Sequence[policies.ManagedPolicy], cpu_rate_seconds: int = 60) -> dict[str, str]:
    """The per-pod queries of the Resource metrics: one set for every namespace and policy together."""
    namespaces, resources = set(), set()
    for policy in managed:
        for metric in policy.spec.metrics:
            if metric.resource is not None:
                namespaces.add(policy.key.namespace)
                resources.add(metric.resource.name)
    return pods.queries(namespaces, resources, cpu_rate_seconds)


class Controller:
    """Runs ticks; holds no per-policy state (the caller keeps each ManagedPolicy's state).

    source:             where metric values come from (production: metrics.prometheus.PrometheusSource).
    decide:             the engine; defaults to `scaling.deciding.engine.decide`. Tests may pass their own.
    target_concurrency: at most this many target calls (read or scale) in flight at once.
    target_timeout:     seconds one target call may take before it counts as a (retryable) failure.
    backoff:            retry schedule for retryable target errors (see control.retrying).
    sleep:              the backoff's sleep; a test hook.
    cpu_rate_seconds:   the window of the CPU usage rate Resource cpu metrics read (metrics.pods).
    """

    def __init__(
        self,
        source: sources.MetricsSource,
        *,
        decide: Decide | None = None,
        target_concurrency: int = 32,
        target_timeout: float = 10.0,
        backoff: retrying.Backoff | None = None,
        sleep: retrying.Sleep = asyncio.sleep,
        cpu_rate_seconds: int = 60,
    ) -> None:
        if target_concurrency < 1:
            raise ValueError(f"target_concurrency must be >= 1, was {target_concurrency}")
        if target_timeout <= 0:
            raise ValueError(f"target_timeout must be > 0, was {target_timeout}")
        if decide is None:
            decide = engine.decide
        self.source = source
        self.decide = decide
        self.target_concurrency = target_concurrency
        self.target_timeout = target_timeout
        self.backoff = backoff or retrying.Backoff()
        self._sleep = sleep
        self.cpu_rate_seconds = cpu_rate_seconds

    async def tick(
        self,
        managed: Sequence[policies.ManagedPolicy],
        now: float,
        *,
        may_actuate: Callable[[], bool] | None = None,
    ) -> list[policies.TickOutcome]:
        """One tick for all `managed` policies at time `now`; one outcome per policy, in order."""
        queries = distinct_queries(managed)
        asked = pod_queries(managed, self.cpu_rate_seconds)
        results, series = await asyncio.gather(self._fetch(queries), self._fetch_series(asked.values()))
        table = pods.table(asked, series, now, self.cpu_rate_seconds)
        slots = asyncio.Semaphore(self.target_concurrency)
        allowed = may_actuate or _always
        return list(
            await asyncio.gather(*(self._run_one(p, results, table, now, slots, allowed) for p in managed))
        )

    async def _fetch_series(self, queries: Collection[str]) -> Mapping[str, sources.SeriesResult]:
        if not queries:
            return {}
        fetch_series = getattr(self.source, "fetch_series", None)
        if fetch_series is None:
            failed = sources.SeriesResult((), "the metrics source cannot read per-pod series")
            return dict.fromkeys(queries, failed)
        try:
            answers: Mapping[str, sources.SeriesResult] = await fetch_series(queries)
            return answers
        except Exception as exc:  # as for fetch: a source must not raise
            log.exception("metrics source failed as a whole (per-pod series)")
            failed = sources.SeriesResult((), f"metrics source failed: {type(exc).__name__}: {exc}")
            return dict.fromkeys(queries, failed)

    async def _fetch(self, queries: Collection[str]) -> Mapping[str, sources.QueryResult]:
        if not queries:
            return {}
        try:
            return await self.source.fetch(queries)
        except Exception as exc:  # a source must not raise; if it does, every metric fails this tick
            log.exception("metrics source failed as a whole")
            failed = sources.QueryResult(None, f"metrics source failed: {type(exc).__name__}: {exc}")
            return dict.fromkeys(queries, failed)

    async def _run_one(
        self,
        policy: policies.ManagedPolicy,
        results: Mapping[str, sources.QueryResult],
        table: pods.PodTable,
        now: float,
        slots: asyncio.Semaphore,
        may_actuate: Callable[[], bool],
    ) -> policies.TickOutcome:
        key, spec, target = policy.key, policy.spec, policy.target
        ref = f"{spec.target_ref.kind} {key.namespace}/{spec.target_ref.name}"
        try:
            count = await self._call(target.read, slots)
        except protocol.TargetError as exc:
            return policies.TickOutcome(key, None, policy.state, f"cannot read {ref}: {exc}", False)

        observation = decisions.Observation(
            at=now,
            current_replicas=count.current,
            ready_replicas=count.ready,
            samples=tuple(
                _sample(metric, results)
                if metric.resource is None
                else _pod_sample(metric, metric.resource, table, key.namespace, count.selector)
                for metric in spec.metrics
            ),
        )
        try:
            decision, state = self.decide(spec, observation, policy.state, now)
        except Exception as exc:  # an engine bug on one policy must not stop the others
            log.exception("decide failed for %s", key)
            error = f"engine failed: {type(exc).__name__}: {exc}"
            return policies.TickOutcome(key, None, policy.state, error, False, observation)

        if not decision.actuate or decision.desired == count.current:
            return policies.TickOutcome(key, decision, state, None, False, observation)

        async def scale() -> None:
            if not may_actuate():  # asked per attempt, right before the write
                raise protocol.TargetError("this replica no longer holds the Lease", retryable=False)
            await target.scale(decision.desired)

        try:
            await self._call(scale, slots)
        except protocol.TargetError as exc:
            error = f"cannot scale {ref} from {count.current} to {decision.desired}: {exc}"
            return policies.TickOutcome(key, decision, policy.state, error, False, observation)
        return policies.TickOutcome(key, decision, state, None, True, observation)

    async def _call(self, call: Callable[[], Awaitable[T]], slots: asyncio.Semaphore) -> T:
        return await retrying.call_with_retries(
            call,
            backoff=self.backoff,
            timeout=self.target_timeout,
            slots=slots,
            sleep=self._sleep,
        )


def _always() -> bool:
    return True


def _pod_sample(
    metric: specs.MetricSpec,
    resource: specs.ResourceSource,
    table: pods.PodTable,
    namespace: str,
    selector: str | None,
) -> decisions.MetricSample:
    found, error = table.samples(namespace, selector, resource.name, resource.container)
    return decisions.MetricSample(metric.name, None, error, found)


def _sample(metric: specs.MetricSpec, results: Mapping[str, sources.QueryResult]) -> decisions.MetricSample:
    result = results.get(metric.query or "")
    if result is None:
        return decisions.MetricSample(metric.name, None, "the metrics source gave no answer for this query")
    return decisions.MetricSample(metric.name, result.value, result.error)
