"""The balancer on its own: least in-flight, the bounded queue at zero, one wake per cold episode, rests."""

from __future__ import annotations

import asyncio

import pytest

from scaleplane.functions.gateway import balancing


async def test_the_least_loaded_instance_takes_the_call() -> None:
    balancer = balancing.Balancer()
    balancer.set_endpoints(["http://a", "http://b"])
    first, second, third = [await balancer.admit(1) for _ in range(3)]
    assert [s.instance.url for s in (first, second)] == ["http://a", "http://b"]
    assert third.instance.url == "http://a"
    second.release()
    assert (await balancer.admit(1)).instance.url == "http://b"
    assert balancer.inflight == 3


async def test_at_zero_calls_queue_the_first_wakes_and_all_go_when_an_instance_comes() -> None:
    wakes: list[int] = []
    balancer = balancing.Balancer(max_queue=3, on_cold=lambda: wakes.append(1))
    waiting = [asyncio.create_task(balancer.admit(5)) for _ in range(3)]
    await asyncio.sleep(0.01)
    assert (balancer.queued, wakes) == (3, [1]), "one wake for the whole cold episode"
    with pytest.raises(balancing.QueueFull):
        await balancer.admit(5)
    balancer.set_endpoints(["http://a"])
    slots = await asyncio.gather(*waiting)
    assert all(s.cold and s.instance.url == "http://a" for s in slots)
    assert balancer.queued == 0 and balancer.inflight == 3


async def test_a_call_that_waits_too_long_times_out_and_leaves_the_queue() -> None:
    balancer = balancing.Balancer()
    with pytest.raises(balancing.TimedOut):
        await balancer.admit(0.05)
    assert balancer.queued == 0


async def test_a_concurrency_limit_queues_calls_in_arrival_order() -> None:
    balancer = balancing.Balancer(concurrency_limit=1)
    balancer.set_endpoints(["http://a"])
    held = await balancer.admit(1)
    order: list[int] = []

    async def call(i: int) -> None:
        slot = await balancer.admit(2)
        order.append(i)
        slot.release()

    tasks = [asyncio.create_task(call(i)) for i in range(3)]
    await asyncio.sleep(0.01)
    assert balancer.queued == 3
    held.release()
    await asyncio.gather(*tasks)
    assert order == [0, 1, 2]


async def test_a_resting_instance_gets_no_call_until_its_rest_ends() -> None:
    now = [0.0]
    balancer = balancing.Balancer(clock=lambda: now[0])
    balancer.set_endpoints(["http://a", "http://b"])
    balancer.rest("http://a", 2.0)
    assert (await balancer.admit(1)).instance.url == "http://b"
    assert (await balancer.admit(1)).instance.url == "http://b"
    now[0] = 2.5
    assert (await balancer.admit(1)).instance.url == "http://a"
