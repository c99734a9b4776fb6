"""Outbound hooks: signatures, one queue and worker per hook (a slow hook delays no other), bounded
retries, and a hook without a secret refused at start. Receivers are real HTTP servers on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json

import pytest

from scaleplane.functions import announcing
from scaleplane.operator.records import hooking, instruments
from scaleplane.operator.wiring import settings
from tests.support import endpoints, waiting


def _count(meters: instruments.Instruments, result: str) -> float:
    return meters.registry.get_sample_value("scaleplane_hook_deliveries_total", {"result": result}) or 0.0


def _event(n: int) -> hooking.ce_event.CloudEvent:
    return hooking.cloud_event(source="/test", subject=f"ns/p{n}", data={"n": n}, at=float(n))


def test_signature_is_hmac_sha256_over_the_exact_body() -> None:
    body = b'{"a":1}'
    signature = announcing.sign(b"key", body)
    assert signature.startswith("sha256=") and len(signature) == 7 + 64
    assert announcing.verify(b"key", body, signature)
    assert not announcing.verify(b"key", body + b" ", signature)
    assert not announcing.verify(b"other", body, signature)


def test_cloud_event_envelope_is_written_by_the_sdk() -> None:
    event = json.loads(hooking.encode(_event(0)))
    assert event["specversion"] == "1.0" and event["time"] == "1970-01-01T00:00:00Z"
    assert event["type"] == hooking.EVENT_TYPE and event["data"] == {"n": 0}
    assert {"id", "source", "subject", "datacontenttype"} <= event.keys()


async def test_a_full_queue_drops_and_counts_without_blocking() -> None:
    meters = instruments.Instruments()
    dispatcher = hooking.HookDispatcher(
        [hooking.Hook("http://127.0.0.1:9/x", b"k", 1.0, 0)], meters, queue_size=2
    )
    # Not started: nothing drains the queue, so the third offer finds it full.
    assert dispatcher.offer(_event(1)) and dispatcher.offer(_event(2))
    assert not dispatcher.offer(_event(3))
    assert _count(meters, "dropped") == 1


async def test_retries_are_bounded_and_delivery_is_signed() -> None:
    meters = instruments.Instruments()
    async with endpoints.HookReceiver(fail_first=2) as receiver:
        hooks = [hooking.Hook(receiver.url, b"secret", 1.0, 3)]
        dispatcher = hooking.HookDispatcher(hooks, meters, backoff=0.01)
        dispatcher.start()
        try:
            dispatcher.offer(_event(1))
            await waiting.eventually(lambda: _count(meters, "delivered") == 1, timeout=5)
        finally:
            await dispatcher.stop()
        assert receiver.attempts == 3
        headers, body = receiver.received[0]
        assert headers["Content-Type"] == "application/cloudevents+json"
        assert json.loads(body)["data"] == {"n": 1}
        assert announcing.verify(b"secret", body, headers[announcing.SIGNATURE_HEADER])

    # Nobody listening any more: 1 + 2 retries, then counted as failed.
    dead = hooking.HookDispatcher([hooking.Hook(receiver.url, b"s", 0.5, 2)], meters, backoff=0.01)
    dead.start()
    try:
        dead.offer(_event(2))
        await waiting.eventually(lambda: _count(meters, "failed") == 1, timeout=5)
    finally:
        await dead.stop()
    await asyncio.sleep(0)


async def test_a_slow_hook_does_not_delay_the_others() -> None:
    """The defect: one worker delivered each event to all hooks together, so every hook waited for
    the slowest. Here a receiver that takes 1.5 s per request gets its first event while the fast one
    has already received all five."""
    meters = instruments.Instruments()
    async with (
        endpoints.HookReceiver(delay=1.5) as slow,
        endpoints.HookReceiver() as fast,
    ):
        hooks = [hooking.Hook(slow.url, b"s", 5.0, 0), hooking.Hook(fast.url, b"f", 5.0, 0)]
        dispatcher = hooking.HookDispatcher(hooks, meters)
        dispatcher.start()
        try:
            started = asyncio.get_running_loop().time()
            for n in range(5):
                assert dispatcher.offer(_event(n))
            await waiting.eventually(lambda: len(fast.received) == 5, timeout=5, every=0.02)
            assert fast.received_at[-1] - started < 1.0  # before the slow hook answered even once
            assert len(slow.received) == 0
            await waiting.eventually(lambda: len(slow.received) >= 1, timeout=5)
        finally:
            await dispatcher.stop()
    assert [json.loads(body)["data"]["n"] for _, body in fast.received] == list(range(5))


@pytest.mark.parametrize(
    ("hook", "env", "reason"),
    [
        ({"url": "https://h.example/x", "secretEnv": "HOOK_KEY"}, {}, "secretEnv HOOK_KEY is not set"),
        (
            {"url": "https://h.example/x", "secretEnv": "HOOK_KEY"},
            {"HOOK_KEY": ""},
            "secretEnv HOOK_KEY is empty",
        ),
        ({"url": "https://h.example/x"}, {}, "no secret and no secretEnv"),
        ({"url": "https://h.example/x", "secret": "a", "secretEnv": "B"}, {"B": "b"}, "not both"),
    ],
)
def test_a_hook_without_a_resolvable_secret_is_refused_at_start(
    hook: dict[str, str], env: dict[str, str], reason: str
) -> None:
    with pytest.raises(settings.SettingsError) as caught:
        settings.from_env({"SCALEPLANE_HOOKS": json.dumps([hook]), **env})
    assert str(caught.value).startswith("SCALEPLANE_HOOKS[0] (https://h.example/x): ")
    assert reason in str(caught.value)
