"""The function catalog and `scaleplane fn` on a running local platform: new, test, deploy, call, list,
deploy a second version, roll back, delete; every call goes through the real gateway to real instances."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scaleplane.cli import app as cli_app
from scaleplane.cli import functions as _commands  # noqa: F401  (registers `fn`, generate too)
from scaleplane.functions.authoring import catalog
from scaleplane.local import platform
from tests.support import functioning
from tests.support.endpoints import HookReceiver

pytestmark = [pytest.mark.servers, pytest.mark.slow, pytest.mark.timeout(240)]

DECLARED = f"""
apiVersion: scaleplane.io/v1alpha1
kind: Function
metadata: {{name: hello, namespace: demo}}
spec: {{handler: "{functioning.HANDLERS / "greet.py"}:main", minReplicas: 1, maxReplicas: 1}}
"""


async def fn(*args: str) -> tuple[int, str]:
    result = await asyncio.to_thread(CliRunner().invoke, cli_app.app, ["fn", *args])
    return result.exit_code, result.output


async def eventually_calls(state: str, expected: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        code, output = await fn("call", "demo/greet", "--params", '{"name": "Ada"}', "--state-dir", state)
        if code == 0 and expected in output:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"`fn call` never answered {expected!r}; last: {code} {output}")
        await asyncio.sleep(0.3)


async def test_deploy_call_rollback_delete(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    receiver = await HookReceiver().__aenter__()
    monkeypatch.setenv("SCALEPLANE_HOOKS", json.dumps([{"url": receiver.url, "secret": "e2e-hook-secret"}]))
    try:
        await _deploy_call_rollback_delete(workdir)
        # Every change went out as a CloudEvent (and the wake from zero as a scale event).
        await asyncio.sleep(0.5)
        events = [json.loads(body) for _, body in receiver.received]
        changes = [
            (e["type"].split(".")[-2], e["data"].get("version"))
            for e in events
            if e["subject"] == "demo/greet"
        ]
        assert [c for c in changes if c[0] != "scaled"] == [
            ("deployed", 1), ("deployed", 2), ("rolledback", 1), ("deleted", 1),
        ]  # fmt: skip
        scaled = [e["data"] for e in events if e["type"] == "io.scaleplane.function.scaled.v1"]
        assert {"function": "demo/greet", "from": 0, "to": 1} in scaled
    finally:
        await receiver.__aexit__(None, None, None)


async def _deploy_call_rollback_delete(workdir: Path) -> None:
    policies = workdir / "policies"
    policies.mkdir()
    (policies / "functions.yaml").write_text(DECLARED)
    state = workdir / "state"
    config = platform.PlatformConfig(state_dir=state, policies=policies, tick_seconds=1.0)
    async with platform.Platform(config) as running:
        code, output = await fn("new", "greet", "--namespace", "demo", "--dir", str(workdir))
        assert code == 0, output
        source = workdir / "greet"
        code, output = await fn("test", str(source))
        assert (code, "4 passed, 0 failed" in output) == (0, True), output

        code, output = await fn("deploy", str(source), "--state-dir", str(state), "--note", "first")
        assert (code, output.strip()) == (0, "deployed demo/greet v1; the platform runs it within a second")
        await eventually_calls(str(state), '"greeting": "hello Ada"')
        assert "FunctionPool/demo.greet" in running.targets
        code, output = await fn("logs", "demo/greet", "--state-dir", str(state))
        assert code == 0 and "serving on http://127.0.0.1:" in output, output

        handler = source / "handler.py"
        handler.write_text(handler.read_text().replace('f"hello {name}"', 'f"hi {name}"'))
        code, output = await fn("deploy", str(source), "--state-dir", str(state))
        assert code == 0 and "v2" in output, output
        await eventually_calls(str(state), '"greeting": "hi Ada"')

        code, output = await fn("list", "--json", "--state-dir", str(state))
        listing = json.loads(output)
        [entry] = listing["catalog"]
        assert (entry["function"], entry["current"], entry["versions"]) == ("demo/greet", 2, [1, 2])
        assert listing["fromPolicyFiles"] == ["demo/hello"]

        code, output = await fn("rollback", "demo/greet", "--state-dir", str(state))
        assert (code, "at v1 again" in output) == (0, True), output
        await eventually_calls(str(state), '"greeting": "hello Ada"')
        code, output = await fn("rollback", "demo/greet", "--state-dir", str(state))
        assert (code, "nothing to roll back to" in output) == (2, True), output

        code, output = await fn("delete", "demo/greet", "--state-dir", str(state))
        assert code == 0, output
        deadline = time.monotonic() + 30
        while "FunctionPool/demo.greet" in running.targets or running.catalog_sync.running:  # type: ignore[union-attr]
            assert time.monotonic() < deadline, "the deleted function's pool is still there"
            await asyncio.sleep(0.2)
        code, output = await fn("call", "demo/greet", "--state-dir", str(state))
        assert (code, "404 NotFound" in output) == (1, True), output
        code, output = await fn("call", "demo/hello", "--params", '{"name": "Bo"}', "--state-dir", str(state))
        assert code == 0 and "hello Bo" in output, output

        # A generated function (a scripted chat server, no model) is deployed once its tests pass.
        async with functioning.ScriptedChat(
            functioning.chat_answer(functioning.ADDER_HANDLER, functioning.ADDER_TESTS)
        ) as chat:
            code, output = await fn(
                "generate", "add two natural numbers", "--name", "adder", "--namespace", "demo",
                "--endpoint", chat.url, "--model", "scripted", "--dir", str(workdir), "--deploy",
                "--state-dir", str(state),
            )  # fmt: skip
        assert code == 0 and "deployed demo/adder v1" in output, output
        deadline = time.monotonic() + 30
        while True:
            code, output = await fn(
                "call", "demo/adder", "--params", '{"a": 2, "b": 3}', "--state-dir", str(state)
            )
            if code == 0:
                break
            assert time.monotonic() < deadline, output
            await asyncio.sleep(0.3)
        assert json.loads(output) == {"sum": 5}
        assert running.catalog_sync is not None
        stored = running.catalog_sync.catalog.current(catalog.parse_key("demo/adder"))
        assert stored.generation is not None and stored.generation["passed"] is True
