"""Function events as signed CloudEvents: the gateway announces failed calls to a real HTTP receiver."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from pathlib import Path

import aiohttp
import pytest

from scaleplane.functions import announcing, routes
from tests.support import functioning
from tests.support.endpoints import HookReceiver
from tests.support.waiting import eventually

GREET = functioning.HANDLERS / "greet.py"


@pytest.mark.servers
async def test_failed_calls_are_announced_signed_and_retried(tmp_path: Path) -> None:
    routes_dir = tmp_path / "routes"
    async with HookReceiver(fail_first=1) as receiver:
        runtime = functioning.start_runtime(f"{GREET}:broken", tmp_path)
        gateway = functioning.start_gateway(
            tmp_path, routes_dir, hooks=[{"url": receiver.url, "secret": "k3y"}]
        )
        try:
            await asyncio.to_thread(runtime.wait_ready)
            key = routes.FunctionKey("demo", "broken")
            routes.write_endpoints(routes.route_file(routes_dir, key), [{"name": "b", "url": runtime.url}])
            await asyncio.to_thread(gateway.wait_ready)
            await asyncio.sleep(0.2)
            async with aiohttp.ClientSession() as session:
                async with session.post(f"{gateway.url}/v1/functions/demo/broken", json={}) as answer:
                    assert answer.status == 500
                async with session.post(f"{gateway.url}/v1/functions/demo/nothing", json={}) as answer:
                    assert answer.status == 404  # not a call to a function: nothing to announce
            await eventually(lambda: receiver.received, timeout=10)
            await asyncio.sleep(0.5)
            [(headers, body)] = receiver.received
            assert receiver.attempts == 2, "the first delivery failed (503) and was retried"
            assert headers["Content-Type"] == "application/cloudevents+json"
            expected = "sha256=" + hmac.new(b"k3y", body, hashlib.sha256).hexdigest()
            assert headers[announcing.SIGNATURE_HEADER] == expected
            event = json.loads(body)
            assert (event["specversion"], event["type"], event["subject"]) == (
                "1.0", "io.scaleplane.function.invocation.failed.v1", "demo/broken",
            )  # fmt: skip
            assert event["data"]["status"] == 500 and event["data"]["code"] == "HandlerFailed"
            assert "the disk is on fire" in event["data"]["message"]
        finally:
            gateway.kill()
            runtime.kill()


def test_hooks_come_from_the_operators_variable_and_bad_ones_name_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOOK_S", "s3cret")
    raw = '[{"url": "http://127.0.0.1:9/h", "secretEnv": "HOOK_S"}]'
    [hook] = announcing.hooks_from_env({"SCALEPLANE_HOOKS": raw, "HOOK_S": "s3cret"})
    assert (hook.url, hook.secret_env, hook.retries, hook.key()) == (
        "http://127.0.0.1:9/h",
        "HOOK_S",
        3,
        b"s3cret",
    )
    assert announcing.hooks_from_env({}) == ()
    with pytest.raises(ValueError, match="SCALEPLANE_HOOKS: not a JSON list") as caught:
        announcing.hooks_from_env({"SCALEPLANE_HOOKS": '[{"url": "ftp://x", "secret": "s"}]'})
    assert "should match pattern" in str(caught.value)
    unsigned = "SCALEPLANE_HOOKS[0] (http://h/x): "
    for bad, environ, message in [
        ('[{"url": "http://h/x"}]', {}, "no secret and no secretEnv; a hook must be signed"),
        ('[{"url": "http://h/x", "secret": "s", "secretEnv": "HOOK_S"}]', {}, "not both"),
        ('[{"url": "http://h/x", "secretEnv": "NOT_SET_ANYWHERE"}]', {}, "NOT_SET_ANYWHERE is not set"),
        # the environment it is given, not the process's (where HOOK_S is set)
        ('[{"url": "http://h/x", "secretEnv": "HOOK_S"}]', {"HOOK_S": ""}, "HOOK_S is empty"),
    ]:
        with pytest.raises(ValueError) as caught:
            announcing.hooks_from_env({"SCALEPLANE_HOOKS": bad, **environ})
        assert str(caught.value).startswith(unsigned) and message in str(caught.value)
