"""The Lease: one holder, take-over only after expiry, a race settled by resourceVersion (409)."""

from __future__ import annotations

import asyncio

import kopf

from scaleplane.operator import kubeapi, leasing
from tests.support import operating


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def test_one_holder_then_takeover_after_expiry_then_release() -> None:
    async with operating.cluster_api() as (cluster, url):
        api = kubeapi.KubeApi(kopf.ConnectionInfo(server=url))
        try:
            clock_a, clock_b = Clock(1_800_000_000.0), Clock(1_800_000_000.0)
            a = leasing.LeaseKeeper(api, namespace="ops", name="l", identity="a", duration=10, clock=clock_a)
            b = leasing.LeaseKeeper(api, namespace="ops", name="l", identity="b", duration=10, clock=clock_b)
            assert await a.try_hold() and a.is_leader
            assert not await b.try_hold() and not b.is_leader
            clock_a.now += 5
            clock_b.now += 5
            assert await a.try_hold()  # renewed
            assert not await b.try_hold()

            # a stops renewing; 11 s later b may take over, and a, cut off, stops counting itself leader.
            clock_a.now += 11
            clock_b.now += 11
            assert not a.is_leader
            assert await b.try_hold() and b.is_leader
            lease = cluster.read_object("coordination.k8s.io/v1/leases", "ops", "l")
            assert lease["spec"]["holderIdentity"] == "b" and lease["spec"]["leaseTransitions"] == 1
            assert not await a.try_hold()

            await b.release()
            assert not b.is_leader
            assert await a.try_hold()  # a released Lease is free at once
        finally:
            await api.close()


async def test_a_race_for_an_expired_lease_has_one_winner() -> None:
    async with operating.cluster_api() as (cluster, url):
        api = kubeapi.KubeApi(kopf.ConnectionInfo(server=url))
        try:
            old = leasing.LeaseKeeper(
                api, namespace="ops", name="l", identity="old", duration=5, clock=Clock(1e9)
            )
            assert await old.try_hold()
            later = Clock(1e9 + 60)
            racers = [
                leasing.LeaseKeeper(api, namespace="ops", name="l", identity=n, duration=5, clock=later)
                for n in ("x", "y")
            ]
            lease = await api.get(racers[0].path)  # both read the same resourceVersion
            results = await asyncio.gather(*(r._write(lease, later()) for r in racers))
            assert sorted(results) == [False, True]
            holder = cluster.read_object("coordination.k8s.io/v1/leases", "ops", "l")["spec"][
                "holderIdentity"
            ]
            assert holder == ("x" if results[0] else "y")
        finally:
            await api.close()
