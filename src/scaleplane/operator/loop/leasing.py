"""Only one replica actuates: a fenced `coordination.k8s.io/v1` Lease, in client-go's leader-election shape.

Why written here and not taken from a library: client-go's election is Go; the `kubernetes` Python
client's `leaderelection` is synchronous, runs in threads on the sync client, and has no fence a caller
can ask before each write; kopf's peering pauses kopf's handlers, while what must be exclusive is our
loop's actuation. So this module is client-go's algorithm on the process's one async client.

The timing (`Timing`, from SCALEPLANE_LEASE_SECONDS / _RENEW_DEADLINE_SECONDS / _RETRY_SECONDS):

    lease 15 s      how long a claim lasts for the others, written as `leaseDurationSeconds`
    renew 10 s      the holder counts itself leader only until `start of its last successful renew +
                    renew deadline`, on its own monotonic clock
    retry 2 s       every replica tries to acquire or renew this often

A standby never reads the holder's clock: it takes over only when the Lease record has not changed
for `leaseDurationSeconds` as measured on ITS OWN monotonic clock since it saw the record change
(client-go's `observedTime`, taken when the GET answers, never before it). The change it saw was
written after the holder's renew started, and seen after it was written, so the
holder's leadership ends at least `lease - renew` (5 s) before any standby may take over; clock skew
between nodes does not enter, and a holder that was paused (SIGSTOP, a long GC, a starved node) finds
its deadline passed the moment it runs again. Writes go as PUT with the `resourceVersion` read: of
two replicas racing, the API server lets one through and answers the other 409 Conflict.

Callers ask `is_leader` right before each actuation (the loop passes it to the controller as its
fence), not once per tick. On shutdown the holder empties `holderIdentity`, so a standby takes over
at its next retry.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from scaleplane.kube import clients

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Timing:
    lease: float = 15.0
    renew_deadline: float = 10.0
    retry: float = 2.0

    def __post_init__(self) -> None:
        if not self.lease > self.renew_deadline > self.retry > 0:
            raise ValueError(
                "the Lease timing needs lease > renew deadline > retry > 0, "
                f"was {self.lease:g} s, {self.renew_deadline:g} s, {self.retry:g} s"
            )


def _micro_time(at: float) -> str:
    return datetime.datetime.fromtimestamp(at, tz=datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _record(lease: dict[str, Any]) -> tuple[Any, ...]:
    """What a standby watches for change: every write changes the resourceVersion, whatever the clocks."""
    spec = lease.get("spec") or {}
    keys = ("holderIdentity", "renewTime", "acquireTime", "leaseDurationSeconds", "leaseTransitions")
    return ((lease.get("metadata") or {}).get("resourceVersion"), *(spec.get(k) for k in keys))


class LeaseKeeper:
    def __init__(
        self,
        api: clients.KubeClient,
        *,
        namespace: str,
        name: str,
        identity: str,
        timing: Timing,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.api = api
        self.namespace, self.name, self.identity = namespace, name, identity
        self.timing = timing
        self._clock, self._wall = clock, wall
        self._renewed_at: float | None = None  # start of the last successful acquire/renew (monotonic)
        self._observed: tuple[Any, ...] | None = None
        self._observed_at = 0.0
        self._task: asyncio.Task[None] | None = None
        self.path = clients.resource_path("coordination.k8s.io/v1", "leases", namespace, name)

    @property
    def is_leader(self) -> bool:
        return self._renewed_at is not None and self._clock() < self._renewed_at + self.timing.renew_deadline

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="scaleplane-lease")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self.is_leader:
            await self.release()

    async def _run(self) -> None:
        while True:
            was = self.is_leader
            try:
                await self.try_hold()
            except Exception:  # a lease round must never end the task: the next round retries
                log.exception("lease round failed")
            if was and not self.is_leader:
                log.warning(
                    "lost the Lease %s/%s: not actuating until it is held again", self.namespace, self.name
                )
            await asyncio.sleep(self.timing.retry)

    async def try_hold(self) -> bool:
        """One round: create, renew or take over the Lease. True when this replica holds it now."""
        started = self._clock()
        try:
            lease = await self.api.get(self.path)
        except clients.ApiError as exc:
            if exc.status != 404:
                log.warning("cannot read Lease %s/%s: %s", self.namespace, self.name, exc)
                return self.is_leader
            return await self._write(None, started)
        record = _record(lease)
        if record != self._observed:
            # Dated when the answer came back, not when the round started: the record may have been
            # written late in a slow GET, by a holder whose renew began after this round did.
            self._observed, self._observed_at = record, self._clock()
        spec = lease.get("spec") or {}
        holder = spec.get("holderIdentity") or ""
        duration = float(spec.get("leaseDurationSeconds") or self.timing.lease)
        if holder and holder != self.identity and self._clock() < self._observed_at + duration:
            self._renewed_at = None
            return False
        return await self._write(lease, started)

    async def _write(self, lease: dict[str, Any] | None, started: float) -> bool:
        spec = dict((lease or {}).get("spec") or {})
        mine = spec.get("holderIdentity") == self.identity
        now = _micro_time(self._wall())
        spec.update(
            holderIdentity=self.identity, leaseDurationSeconds=round(self.timing.lease), renewTime=now
        )
        if not mine:
            spec["acquireTime"] = now
            spec["leaseTransitions"] = int(spec.get("leaseTransitions") or 0) + (1 if lease else 0)
        try:
            if lease is None:
                body = {
                    "apiVersion": "coordination.k8s.io/v1",
                    "kind": "Lease",
                    "metadata": {"name": self.name, "namespace": self.namespace},
                    "spec": spec,
                }
                written = await self.api.create(self.path.rsplit("/", 1)[0], body)
            else:
                written = await self.api.replace(self.path, {**lease, "spec": spec})
        except clients.ApiError as exc:
            if exc.status not in (409, 422):
                log.warning("cannot write Lease %s/%s: %s", self.namespace, self.name, exc)
            if not mine:
                self._renewed_at = None
            return self.is_leader
        if not mine:
            log.info("took the Lease %s/%s as %s", self.namespace, self.name, self.identity)
        self._renewed_at = started
        self._observed, self._observed_at = _record(written or {"spec": spec}), started
        return True

    async def release(self) -> None:
        self._renewed_at = None
        try:
            lease = await self.api.get(self.path)
            if (lease.get("spec") or {}).get("holderIdentity") == self.identity:
                spec = {**lease["spec"], "holderIdentity": "", "leaseDurationSeconds": 1}
                await self.api.replace(self.path, {**lease, "spec": spec})
        except clients.ApiError as exc:
            log.warning("cannot release Lease %s/%s: %s", self.namespace, self.name, exc)
