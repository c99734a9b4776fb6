"""After each tick, tell people: CR status, Kubernetes Events, the operator's metrics, hooks, logs.

Status writes are merge patches of `/status` (no resourceVersion: the operator is the only writer of a
policy's status, so there is nothing to conflict with); a 409, 429, 5xx or timeout is retried with
backoff (0.2 s, 0.4 s, 0.8 s), then counted as an error and left to the next tick. At most
`concurrency` writes are in flight.

Events: one on every scale (Normal/Scaled), one on every tick error (Warning/ScalingFailed) — an error
identical to the policy's previous tick's is not posted again, so a broken target does not flood the
namespace — one when metrics start failing (Warning/MetricsUnavailable) and one when fallback rules
take over (Warning/FallbackActive). Events go out with the operator's own client (`posting`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from scaleplane.control import policies, retrying
from scaleplane.kube import clients
from scaleplane.operator import hooking, instruments, posting, registering, statuses
from scaleplane.scaling import reasons

log = logging.getLogger("scaleplane.operator.decisions")
METRIC_TROUBLE = (reasons.METRICS_UNAVAILABLE, reasons.METRIC_FAILED)
Sleep = Callable[[float], Awaitable[None]]
STATUS_BACKOFF = retrying.Backoff()  # 3 retries: 0.2 s, 0.4 s, 0.8 s (control.retrying)


def status_path(namespace: str, name: str) -> str:
    return f"/apis/scaleplane.io/v1alpha1/namespaces/{namespace}/scalingpolicies/{name}/status"


async def patch_status(
    api: clients.KubeClient,
    namespace: str,
    name: str,
    status: dict[str, Any],
    *,
    backoff: retrying.Backoff = STATUS_BACKOFF,
    sleep: Sleep = asyncio.sleep,
) -> None:
    """Merge-patch a policy's status, retrying what is worth retrying. Raises ApiError at the end."""
    await retrying.run(
        lambda: api.patch(status_path(namespace, name), {"status": status}),
        backoff=backoff,
        retryable=retrying.retryable_attribute,
        sleep=sleep,
    )


class Recorder:
    def __init__(
        self,
        api: clients.KubeClient,
        registry: registering.Registry,
        meters: instruments.Instruments,
        hooks: hooking.HookDispatcher,
        *,
        concurrency: int = 32,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.api = api
        self.registry = registry
        self.meters = meters
        self.hooks = hooks
        self._slots = asyncio.Semaphore(concurrency)
        self._sleep = sleep

    async def record(self, outcomes: Sequence[policies.TickOutcome], at: float) -> None:
        await asyncio.gather(*(self._record_one(outcome, at) for outcome in outcomes))

    async def _record_one(self, outcome: policies.TickOutcome, at: float) -> None:
        entry = self.registry.keep(outcome)
        if entry is None:  # deleted during the tick
            return
        key, spec = outcome.key, entry.managed.spec
        status = statuses.after_tick(spec, outcome, entry.status, generation=entry.generation, at=at)
        self.meters.record(outcome, spec.metrics)
        async with self._slots:
            await self._tell(entry, outcome, at)
            try:
                await patch_status(self.api, key.namespace, key.name, status, sleep=self._sleep)
                entry.status = status
            except clients.ApiError as exc:
                self.meters.errors.labels("status").inc()
                log.warning("cannot write the status of %s: %s", key, exc)
        if outcome.decision is not None:
            self.hooks.offer(
                hooking.cloud_event(
                    source=f"/apis/scaleplane.io/v1alpha1/namespaces/{key.namespace}/scalingpolicies/{key.name}",
                    subject=str(key),
                    data={
                        "policy": {"namespace": key.namespace, "name": key.name},
                        "target": status["target"],
                        "scaled": outcome.scaled,
                        "error": outcome.error,
                        "decision": status["lastDecision"],
                    },
                    at=at,
                )
            )

    async def _tell(self, entry: registering.Entry, outcome: policies.TickOutcome, at: float) -> None:
        decision = outcome.decision
        previous = (entry.status.get("lastDecision") or {}).get("reason", "")
        # INFO for what changed (a scale, an error, a new reason); a tick that holds steady is DEBUG,
        # so 10,000 steady policies do not write 10,000 lines every tick.
        changed = (
            outcome.scaled or outcome.error is not None or decision is None or decision.reason != previous
        )
        level = logging.INFO if changed else logging.DEBUG
        if log.isEnabledFor(level):
            fields: dict[str, Any] = {
                "policy": str(outcome.key),
                "scaled": outcome.scaled,
                "error": outcome.error,
            }
            if decision is not None:
                fields.update(
                    current=decision.current,
                    desired=decision.desired,
                    reason=decision.reason,
                    rules=list(decision.rules),
                    metrics={r.metric: r.value for r in decision.recommendations},
                )
            message = decision.message if decision else (outcome.error or "no decision")
            log.log(level, message, extra={"decision": fields})
        events: list[tuple[str, str, str]] = []
        if outcome.scaled and decision is not None:
            events.append(
                ("Normal", "Scaled", f"{decision.current} -> {decision.desired} replicas: {decision.message}")
            )
        if outcome.error and outcome.error != entry.last_error:
            events.append(("Warning", "ScalingFailed", outcome.error))
        if decision is not None and decision.reason != previous:
            if decision.reason.startswith("fallback"):
                events.append(("Warning", "FallbackActive", decision.message))
            elif decision.reason in METRIC_TROUBLE:
                events.append(("Warning", "MetricsUnavailable", decision.message))
        entry.last_error = outcome.error
        for kind, reason, message in events:
            posted = await posting.post(
                self.api, entry.ref, kind=kind, reason=reason, message=message, at=at, sleep=self._sleep
            )
            if not posted:
                self.meters.errors.labels("event").inc()
