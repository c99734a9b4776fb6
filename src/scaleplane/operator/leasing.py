"""Only one replica actuates: a `coordination.k8s.io/v1` Lease, as client-go's leader election does.

Why a Lease and not kopf peering: kopf peering pauses kopf's own handlers, but the scaling loop is a
task of ours, and what must be exclusive is the loop's actuation. Every replica keeps its registry of
policies warm from kopf's watches (handlers are idempotent), so a standby takes over at its next tick.

The rules, with `duration` = SCALEPLANE_LEASE_SECONDS:
- a replica renews every duration/3; it counts itself leader only until `last successful renew +
  duration` (its own clock), so a replica cut off from the API stops actuating before anyone else can
  take over;
- a Lease whose `renewTime + leaseDurationSeconds` has passed may be taken over, with the
  `resourceVersion` it was read at: of two replicas racing, the API server lets one through and gives
  the other 409 Conflict;
- on shutdown the holder empties `holderIdentity`, so the standby takes over at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import logging
import time
from collections.abc import Callable
from typing import Any

from scaleplane.operator import kubeapi

log = logging.getLogger(__name__)


def _micro_time(at: float) -> str:
    return datetime.datetime.fromtimestamp(at, tz=datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse_time(value: str | None) -> float | None:
    if not value:
        return None
    return datetime.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


class LeaseKeeper:
    def __init__(
        self,
        api: kubeapi.KubeApi,
        *,
        namespace: str,
        name: str,
        identity: str,
        duration: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.api = api
        self.namespace, self.name, self.identity = namespace, name, identity
        self.duration = duration
        self._clock = clock
        self._held_until = 0.0
        self._task: asyncio.Task[None] | None = None
        self.path = f"/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases/{name}"

    @property
    def is_leader(self) -> bool:
        return self._clock() < self._held_until

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
            try:
                await self.try_hold()
            except Exception:  # a lease round must never end the task: the next round retries
                log.exception("lease round failed")
            await asyncio.sleep(self.duration / 3)

    async def try_hold(self) -> bool:
        """One round: create, renew or take over the Lease. True when this replica holds it now."""
        started = self._clock()
        try:
            lease = await self.api.get(self.path)
        except kubeapi.ApiError as exc:
            if exc.status != 404:
                log.warning("cannot read Lease %s/%s: %s", self.namespace, self.name, exc)
                return self.is_leader
            return await self._write(None, started)
        spec = lease.get("spec") or {}
        holder = spec.get("holderIdentity") or ""
        renewed = _parse_time(spec.get("renewTime")) or 0.0
        expired = renewed + float(spec.get("leaseDurationSeconds") or self.duration) < started
        if holder == self.identity or not holder or expired:
            return await self._write(lease, started)
        self._held_until = 0.0
        return False

    async def _write(self, lease: dict[str, Any] | None, at: float) -> bool:
        spec = (lease or {}).get("spec") or {}
        mine = spec.get("holderIdentity") == self.identity
        body: dict[str, Any] = {
            "spec": {
                "holderIdentity": self.identity,
                "leaseDurationSeconds": round(self.duration),
                "renewTime": _micro_time(at),
            }
        }
        if not mine:
            body["spec"]["acquireTime"] = _micro_time(at)
            body["spec"]["leaseTransitions"] = int(spec.get("leaseTransitions") or 0) + (1 if lease else 0)
        try:
            if lease is None:
                body.update(apiVersion="coordination.k8s.io/v1", kind="Lease")
                body["metadata"] = {"name": self.name, "namespace": self.namespace}
                await self.api.create(self.path.rsplit("/", 1)[0], body)
            else:
                body["metadata"] = {"resourceVersion": lease["metadata"]["resourceVersion"]}
                await self.api.patch(self.path, body)
        except kubeapi.ApiError as exc:
            if exc.status not in (409, 422):
                log.warning("cannot write Lease %s/%s: %s", self.namespace, self.name, exc)
            return self.is_leader if mine else False
        if not mine:
            log.info("took the Lease %s/%s as %s", self.namespace, self.name, self.identity)
        self._held_until = at + self.duration
        return True

    async def release(self) -> None:
        try:
            lease = await self.api.get(self.path)
            if (lease.get("spec") or {}).get("holderIdentity") == self.identity:
                body = {
                    "metadata": {"resourceVersion": lease["metadata"]["resourceVersion"]},
                    "spec": {"holderIdentity": None, "renewTime": None},
                }
                await self.api.patch(self.path, body)
        except kubeapi.ApiError as exc:
            log.warning("cannot release Lease %s/%s: %s", self.namespace, self.name, exc)
        self._held_until = 0.0
