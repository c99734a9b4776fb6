"""Outbound hooks: signatures, the bounded queue (never blocks, drops with a count), bounded retries."""

from __future__ import annotations

import asyncio
import json

from scaleplane.operator import hooking, instruments
from tests.support import operating


def _count(meters: instruments.Instruments, result: str) -> float:
    return meters.registry.get_sample_value("scaleplane_hook_deliveries_total", {"result": result}) or 0.0


def test_signature_is_hmac_sha256_over_the_exact_body() -> None:
    body = b'{"a":1}'
    signature = hooking.sign(b"key", body)
    assert signature.startswith("sha256=") and len(signature) == 7 + 64
    assert hooking.verify(b"key", body, signature)
    assert not hooking.verify(b"key", body + b" ", signature)
    assert not hooking.verify(b"other", body, signature)


def test_cloud_event_envelope() -> None:
    event = hooking.cloud_event(source="/x", subject="ns/p", data={"k": 1}, at=0.0)
    assert event["specversion"] == "1.0" and event["time"] == "1970-01-01T00:00:00Z"
    assert {"id", "source", "type", "subject", "datacontenttype", "data"} <= event.keys()


async def test_a_full_queue_drops_and_counts_without_blocking() -> None:
    meters = instruments.Instruments()
    dispatcher = hooking.HookDispatcher(
        [hooking.Hook("http://127.0.0.1:9/x", b"k", 1.0, 0)], meters, queue_size=2
    )
    # Not started: nothing drains the queue, so the third offer finds it full.
    assert dispatcher.offer({"n": 1}) and dispatcher.offer({"n": 2})
    assert not dispatcher.offer({"n": 3})
    assert _count(meters, "dropped") == 1


async def test_retries_are_bounded_and_delivery_is_signed() -> None:
    meters = instruments.Instruments()
    async with operating.HookReceiver(fail_first=2) as receiver:
        hooks = [hooking.Hook(receiver.url, b"secret", 1.0, 3)]
        dispatcher = hooking.HookDispatcher(hooks, meters, backoff=0.01)
        dispatcher.start()
        try:
            dispatcher.offer({"n": 1})
            await operating.eventually(lambda: _count(meters, "delivered") == 1, timeout=5)
        finally:
            await dispatcher.stop()
        assert receiver.attempts == 3
        headers, body = receiver.received[0]
        assert json.loads(body) == {"n": 1}
        assert hooking.verify(b"secret", body, headers[hooking.SIGNATURE_HEADER])

    # Nobody listening any more: 1 + 2 retries, then counted as failed.
    dead = hooking.HookDispatcher([hooking.Hook(receiver.url, b"s", 0.5, 2)], meters, backoff=0.01)
    dead.start()
    try:
        dead.offer({"n": 2})
        await operating.eventually(lambda: _count(meters, "failed") == 1, timeout=5)
    finally:
        await dead.stop()
    await asyncio.sleep(0)
