"""Only one local controller replica actuates: a fenced leader key on etcd, through aetcd.

The rules are the operator's (`scaleplane.operator.loop.leasing`, a Kubernetes Lease), carried to etcd:

    lease 3 s       the etcd lease the leader key is attached to: etcd deletes the key when the holder
                    has not kept it alive for this long (etcd's own clock, one server: no skew between
                    the replicas enters)
    renew 2 s       the holder counts itself leader only until `start of its last successful keep-alive +
                    renew deadline`, on its own monotonic clock, so it stops actuating at least
                    `lease - renew` before any standby can create the key again (a holder that was
                    paused finds its deadline passed the moment it runs again)
    retry 0.5 s     every replica tries to create or keep alive the key this often

The fencing token is the leader key's create revision (etcd revisions only grow: a later leader always
holds a larger token). It is checked twice before every actuation: `is_leader` in this process (the
Controller's `may_actuate`, asked right before each write), and by etcd itself, since the actuation is a
transaction that only commits when the leader key still has this create revision (`fenced`). The second
check is what a paused or partitioned old leader cannot get around: its write is refused by the store.

Why not aetcd's `Lock`: it keeps no renew deadline and hands out no token a write can be compared to;
its primitives (leases, transactions) are what is used here.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import aetcd

log = logging.getLogger(__name__)
LEADER_KEY = b"/scaleplane/local/controller/leader"


@dataclass(frozen=True)
class Timing:
    lease: int = 3
    renew_deadline: float = 2.0
    retry: float = 0.5

    def __post_init__(self) -> None:
        if not self.lease > self.renew_deadline > self.retry > 0:
            raise ValueError(
                "the leader timing needs lease > renew deadline > retry > 0, "
                f"was {self.lease:g} s, {self.renew_deadline:g} s, {self.retry:g} s"
            )


class EtcdLeadership:
    def __init__(
        self,
        client: aetcd.Client,
        *,
        identity: str,
        timing: Timing,
        key: bytes = LEADER_KEY,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.identity = identity
        self.timing = timing
        self.key = key
        self._clock = clock
        self._lease: Any = None
        self._renewed_at: float | None = None
        self.token: int | None = None
        """The create revision of the leader key this replica wrote; None when it holds none."""

    @property
    def is_leader(self) -> bool:
        return self._renewed_at is not None and self._clock() < self._renewed_at + self.timing.renew_deadline

    async def try_hold(self) -> bool:
        """One round: keep the key alive, or create it when nobody holds it. True when leader now."""
        started = self._clock()
        if self._lease is not None:
            try:
                answer = await self._lease.refresh()
            except Exception as exc:  # etcd down or slow: no renewal; the deadline ends the leadership
                log.warning("cannot keep the leader key alive: %s", exc)
                return self.is_leader
            if answer is not None and answer.TTL > 0:
                self._renewed_at = started
                return True
            log.warning("%s lost the leader key (its etcd lease expired)", self.identity)
            self._lease, self.token, self._renewed_at = None, None, None
        lease = await self.client.lease(self.timing.lease)
        created, answers = await self.client.transaction(
            compare=[self.client.transactions.create(self.key) == 0],
            success=[self.client.transactions.put(self.key, self.identity.encode(), lease=lease)],
            failure=[],
        )
        if not created:
            await lease.revoke()
            return False
        self._lease, self._renewed_at = lease, started
        self.token = int(answers[0].response_put.header.revision)
        log.info("%s leads (fencing token %d)", self.identity, self.token)
        return True

    async def fenced(self, success: Sequence[Any], compare: Sequence[Any] = ()) -> bool:
        """Commit `success` (transaction operations) only while the leader key is still the one this
        replica created, and `compare` holds; False when refused (the fence, or a concurrent write)."""
        if self.token is None or not self.is_leader:
            return False
        guard = self.client.transactions.create(self.key) == self.token
        committed, _ = await self.client.transaction(
            compare=[guard, *compare], success=list(success), failure=[]
        )
        return bool(committed)

    async def release(self) -> None:
        """Step down on a clean stop, so a standby takes over at its next retry, not after the lease."""
        lease, self._lease, self._renewed_at, self.token = self._lease, None, None, None
        if lease is not None:
            try:
                await lease.revoke()
            except Exception as exc:
                log.warning("cannot release the leader key: %s", exc)
