"""After each tick, tell people: CR status, Kubernetes Events, the operator's metrics, hooks, logs.

Status writes are merge patches of `/status` (no resourceVersion: the operator is the only writer of a
policy's status, so there is nothing to conflict with); a 409, 429, 5xx or timeout is retried with
backoff (0.2 s, 0.4 s, 0.8 s), then counted as an error and left to the next tick. At most
`concurrency` writes are in flight.

A status is written only when something a user reads changed (`statuses.readable`: the counts, the
decision's reason and rules, a condition's status or reason, the error), or when `heartbeat` seconds
have passed since the last write (SCALEPLANE_STATUS_HEARTBEAT_SECONDS; 0 writes every tick). A steady
policy then costs one PATCH per heartbeat instead of one per tick; its metric values, sentences and
engine state in the status are at most one heartbeat old; a leader that stops writes the newer engine
states first (`save_states`), so only a crash leaves them that old.
Writes and skips are counted in `scaleplane_status_writes_total{result}`.

Events: one on every scale (Normal/Scaled), one on every tick error (Warning/ScalingFailed) — a
repeat of the same message updates that Event's count instead (operator.records.posting), so a broken target
does not flood the namespace — one when metrics start failing (Warning/MetricsUnavailable), one
when fallback rules take over (Warning/FallbackActive), and one when the status read back at
(re)load was malformed (Warning/MalformedStatus, see operator.records.restoring). Hooks are offered a
policy's changes only (a scale, a new error, a condition flip), never a steady decision. Events go
out with the operator's own client (`posting`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from scaleplane.control import policies, retrying
from scaleplane.kube import clients
from scaleplane.operator.records import hooking, instruments, posting, registering, statuses
from scaleplane.scaling import reasons

log = logging.getLogger("scaleplane.operator.decisions")
METRIC_TROUBLE = (reasons.METRICS_UNAVAILABLE, reasons.METRIC_FAILED)
Sleep = Callable[[float], Awaitable[None]]
STATUS_BACKOFF = retrying.Backoff()  # 3 retries: 0.2 s, 0.4 s, 0.8 s (control.retrying)
NO_RETRY = retrying.Backoff(retries=0)  # a stopping leader saves what it can, at once


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
        heartbeat: float = 180.0,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.api = api
        self.heartbeat = heartbeat
        self.events = posting.EventPoster(api, interval=heartbeat, sleep=sleep)
        self.registry = registry
        self.meters = meters
        self.hooks = hooks
        self._slots = asyncio.Semaphore(concurrency)
        self._sleep = sleep

    async def record(self, outcomes: Sequence[policies.TickOutcome], at: float) -> None:
        await asyncio.gather(*(self._record_one(outcome, at) for outcome in outcomes))
        await self.events.flush(at)

    async def save_states(self) -> int:
        """Write every engine state newer than its status (a handover: the next leader resumes from
        what this one knew, not from up to a heartbeat before). Returns how many were written."""

        async def save(entry: registering.Entry) -> bool:
            state = entry.managed.state.to_dict()
            if state == entry.status.get("engineState"):
                return False
            key = entry.managed.key
            async with self._slots:
                try:
                    await patch_status(
                        self.api, key.namespace, key.name, {"engineState": state}, backoff=NO_RETRY
                    )
                except clients.ApiError as exc:
                    log.warning("cannot save the engine state of %s: %s", key, exc)
                    return False
            entry.status = {**entry.status, "engineState": state}
            return True

        saved = await asyncio.gather(*(save(entry) for entry in list(self.registry.entries.values())))
        return sum(saved)

    def _due(self, entry: registering.Entry, status: dict[str, Any], at: float) -> bool:
        """Write when something a user reads changed, else once per heartbeat (see the docstring)."""
        if entry.written_at is None or at - entry.written_at >= self.heartbeat:
            return True
        return statuses.readable(status) != statuses.readable(entry.status)

    async def _record_one(self, outcome: policies.TickOutcome, at: float) -> None:
        entry = self.registry.keep(outcome)
        if entry is None:  # deleted during the tick
            return
        key, spec = outcome.key, entry.managed.spec
        status = statuses.after_tick(
            spec, outcome, entry.status, generation=entry.generation, at=at, restored=entry.restored
        )
        changes = _changes(outcome, entry, status)
        self.meters.record(outcome, spec.metrics, (spec.min_replicas, spec.max_replicas))
        async with self._slots:
            await self._tell(entry, outcome, at)
            if not self._due(entry, status, at):
                self.meters.status_writes.labels("skipped").inc()
            else:
                try:
                    await patch_status(self.api, key.namespace, key.name, status, sleep=self._sleep)
                    entry.status, entry.written_at = status, at
                    self.meters.status_writes.labels("written").inc()
                except clients.ApiError as exc:
                    self.meters.errors.labels("status").inc()
                    log.warning("cannot write the status of %s: %s", key, exc)
        if changes and self.hooks.workers:  # hooks hear of changes, never of steady decisions
            self.hooks.offer(
                hooking.cloud_event(
                    source=f"/apis/scaleplane.io/v1alpha1/namespaces/{key.namespace}/scalingpolicies/{key.name}",
                    subject=str(key),
                    data={
                        "policy": {"namespace": key.namespace, "name": key.name},
                        "target": status["target"],
                        "changes": changes,
                        "scaled": outcome.scaled,
                        "error": outcome.error,
                        "decision": status["lastDecision"],
                        "conditions": status["conditions"],
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
        if entry.untold:  # the status read back at (re)load was malformed: say so once
            events.append(("Warning", "MalformedStatus", "; ".join(entry.untold)))
            entry.untold = ()
        if outcome.scaled and decision is not None:
            events.append(
                ("Normal", "Scaled", f"{decision.current} -> {decision.desired} replicas: {decision.message}")
            )
        if outcome.error:  # every tick it fails: a repeat only counts up the one Event (posting)
            events.append(("Warning", "ScalingFailed", outcome.error))
        if decision is not None and decision.reason != previous:
            if decision.reason.startswith("fallback"):
                events.append(("Warning", "FallbackActive", decision.message))
            elif decision.reason in METRIC_TROUBLE:
                events.append(("Warning", "MetricsUnavailable", decision.message))
        entry.last_error = outcome.error
        for kind, reason, message in events:
            if not await self.events.post(entry.ref, kind=kind, reason=reason, message=message, at=at):
                self.meters.errors.labels("event").inc()


def _changes(outcome: policies.TickOutcome, entry: registering.Entry, status: dict[str, Any]) -> list[str]:
    """What a hook should hear of: "scaled", "error" (new or different), "conditions" (a flip or a
    new reason). Read before `_tell` moves `entry.last_error` on."""
    changes = []
    if outcome.scaled:
        changes.append("scaled")
    if outcome.error is not None and outcome.error != entry.last_error:
        changes.append("error")
    if _condition_keys(status) != _condition_keys(entry.status):
        changes.append("conditions")
    return changes


def _condition_keys(status: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(c["type"], c["status"], c.get("reason", "")) for c in status.get("conditions") or []]
