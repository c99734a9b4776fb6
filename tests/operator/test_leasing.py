"""The fenced Lease on kmock: one holder; a holder that cannot renew stops leading before anyone may take
over; a standby judges expiry on its own clock (skew does not matter); a race has one winner (409)."""

from __future__ import annotations

import asyncio

import pytest

from scaleplane.operator.loop import leasing
from tests.support import operating
from tests.support.kmock_cluster import kube_client

TIMING = leasing.Timing(lease=15, renew_deadline=10, retry=2)
LEASES = "coordination.k8s.io/v1/leases"


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def keeper(api, identity: str, clock: Clock, wall: Clock | None = None) -> leasing.LeaseKeeper:
    return leasing.LeaseKeeper(
        api, namespace="ops", name="l", identity=identity, timing=TIMING, clock=clock, wall=wall or clock
    )


async def test_a_holder_that_cannot_renew_stops_before_a_standby_may_take_over() -> None:
    async with operating.cluster_api() as (cluster, url):
        api = kube_client(url)
        try:
            clock_a, clock_b = Clock(1000.0), Clock(50.0)  # monotonic clocks: unrelated origins
            a, b = keeper(api, "a", clock_a), keeper(api, "b", clock_b)
            assert await a.try_hold() and a.is_leader
            assert not await b.try_hold() and not b.is_leader
            for step in (2, 2, 2):  # a renews every retry period; b sees the record change each time
                clock_a.now += step
                clock_b.now += step
                assert await a.try_hold()
                assert not await b.try_hold()

            # a is cut off from the API from now on (it renewed last at clock_a = 1006).
            cluster.inject("GET", "/leases/l", status=503, times=1000)
            for _ in range(5):  # 10 s later a's renew deadline has passed: a stops leading...
                clock_a.now += 2
                clock_b.now += 2
                await a.try_hold()
            assert not a.is_leader
            cluster.faults.clear()
            # ...while b, 10 s after it last saw the record change, must still wait 5 s more.
            assert not await b.try_hold()
            clock_b.now += 5.1
            assert await b.try_hold() and b.is_leader
            lease = cluster.read_object(LEASES, "ops", "l")
            assert lease["spec"]["holderIdentity"] == "b" and lease["spec"]["leaseTransitions"] == 1
            assert not await a.try_hold()  # a is back, sees b hold a fresh record

            await b.release()
            assert not b.is_leader
            assert await a.try_hold()  # a released Lease is free at once
        finally:
            await api.close()


async def test_a_standby_whose_wall_clock_runs_an_hour_ahead_does_not_take_over() -> None:
    """The old rule (renewTime + duration < my wall clock) let a skewed standby take a live Lease."""
    async with operating.cluster_api() as (_, url):
        api = kube_client(url)
        try:
            mono_a, mono_b = Clock(0.0), Clock(0.0)
            a = keeper(api, "a", mono_a, wall=Clock(1.8e9))
            b = keeper(api, "b", mono_b, wall=Clock(1.8e9 + 3600))  # an hour ahead
            assert await a.try_hold()
            for _ in range(20):
                mono_a.now += 2
                mono_b.now += 2
                assert await a.try_hold() and a.is_leader
                assert not await b.try_hold() and not b.is_leader
        finally:
            await api.close()


async def test_a_race_for_an_expired_lease_has_one_winner() -> None:
    async with operating.cluster_api() as (cluster, url):
        api = kube_client(url)
        try:
            old = keeper(api, "old", Clock(0.0))
            assert await old.try_hold()
            racers = [keeper(api, n, Clock(100.0)) for n in ("x", "y")]
            lease = await api.get(racers[0].path)  # both read the same resourceVersion
            results = await asyncio.gather(*(r._write(lease, 100.0) for r in racers))
            assert sorted(results) == [False, True]
            holder = cluster.read_object(LEASES, "ops", "l")["spec"]["holderIdentity"]
            assert holder == ("x" if results[0] else "y")
        finally:
            await api.close()


@pytest.mark.parametrize(("lease", "renew", "retry"), [(10, 10, 2), (15, 10, 0), (5, 10, 2)])
def test_the_timing_must_be_lease_over_renew_over_retry(lease, renew, retry) -> None:
    with pytest.raises(ValueError, match="lease > renew deadline > retry > 0"):
        leasing.Timing(lease=lease, renew_deadline=renew, retry=retry)


class _SlowReads:
    """The API as a starved standby sees it: `hold()` a GET in flight while the holder renews."""

    def __init__(self, api, clock: Clock) -> None:
        self.api, self.clock = api, clock
        self.during_get = None  # an async callable run between sending the GET and its answer

    async def get(self, path: str):
        if self.during_get is not None:
            work, self.during_get = self.during_get, None
            await work()
        return await self.api.get(path)

    def __getattr__(self, name: str):
        return getattr(self.api, name)


async def test_a_slow_read_dates_the_change_when_it_answers_not_when_the_round_began() -> None:
    """A standby that dated a change at its round's start could take over while the holder still led.

    b's round begins at 1000 and its GET is in flight for 6 s, during which a renews (at 1006, so a
    leads until 1016). Dated at 1000, b would take over from 1015, beside a; dated when the answer
    came (1006), b waits until 1021, after a's deadline.
    """
    async with operating.cluster_api() as (_, url):
        api = kube_client(url)
        try:
            clock = Clock(990.0)  # one clock: the two replicas' monotonic time runs together
            a = keeper(api, "a", clock)
            slow = _SlowReads(api, clock)
            b = keeper(slow, "b", clock)
            assert await a.try_hold()
            assert not await b.try_hold()  # b has seen a's record

            async def a_renews_late_in_the_read() -> None:
                clock.now += 6
                assert await a.try_hold()

            clock.now = 1000.0
            slow.during_get = a_renews_late_in_the_read
            assert not await b.try_hold()  # b's round began at 1000; its GET answered at 1006
            clock.now = 1015.5
            assert a.is_leader  # renewed at 1006, deadline 10 s: it leads until 1016
            assert not await b.try_hold() and not b.is_leader
            clock.now = 1021.1  # 15 s after b saw the record change; a stopped leading at 1016
            assert not a.is_leader
            assert await b.try_hold() and b.is_leader
        finally:
            await api.close()
