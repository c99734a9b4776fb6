"""The local controller's leader key on a real etcd: one holder at a time, a standby takes a free key,
and the fence is the store's: an old leader that still believes it leads (its clock says its renew
deadline has not passed, as after a pause) has its actuation refused by etcd once another replica
created the key."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import aetcd
import pytest

from scaleplane.local.ha import etcd, leaderelecting
from scaleplane.local.servers import ports

pytestmark = [pytest.mark.servers]


@pytest.fixture
def etcd_server(tmp_path: Path) -> Iterator[etcd.EtcdServer]:
    server = etcd.EtcdServer(tmp_path / "etcd").start()
    try:
        yield server
    finally:
        server.stop()


class FrozenClock:
    """A replica's monotonic clock that does not move: it never sees its own deadline pass."""

    def __call__(self) -> float:
        return 100.0


async def _fence(port: int) -> None:
    timing = leaderelecting.Timing()
    async with (
        aetcd.Client(host=ports.HOST, port=port) as one,
        aetcd.Client(host=ports.HOST, port=port) as two,
    ):
        a = leaderelecting.EtcdLeadership(one, identity="a", timing=timing, clock=FrozenClock())
        b = leaderelecting.EtcdLeadership(two, identity="b", timing=timing)
        assert await a.try_hold() and a.is_leader
        assert not await b.try_hold() and not b.is_leader and b.token is None
        write = [one.transactions.put(b"/drill/pool", b"a")]
        assert await a.fenced(write)
        # What etcd does when a's keep-alives stop for the lease's TTL, done at once: the key goes.
        await a._lease.revoke()
        assert await b.try_hold() and b.is_leader
        assert b.token is not None and a.token is not None and b.token > a.token
        # a still counts itself leader (its clock is frozen), so only the store can refuse it.
        assert a.is_leader
        assert not await a.fenced([one.transactions.put(b"/drill/pool", b"stale")])
        assert (await two.get(b"/drill/pool")).value == b"a"
        assert await b.fenced([two.transactions.put(b"/drill/pool", b"b")])
        # a's next round finds its lease gone and steps down.
        assert not await a.try_hold() and not a.is_leader
        await b.release()
        assert await a.try_hold()  # a released key is free at once, no lease to wait for


def test_the_fence_is_etcd_s_an_old_leader_is_refused_after_a_takeover(etcd_server: etcd.EtcdServer) -> None:
    asyncio.run(_fence(etcd_server.client_port))


def test_the_timing_keeps_the_holder_s_deadline_inside_the_lease() -> None:
    with pytest.raises(ValueError, match="lease > renew deadline > retry > 0"):
        leaderelecting.Timing(lease=2, renew_deadline=2.0, retry=0.5)
