"""Functions on the local platform, on real processes: zero -> N -> zero behind the gateway, and a gateway
killed mid-traffic that loses no call it acknowledged.

One platform run (tick 0.5 s) with two Functions from policy files:
- `demo/hello` is always on (minReplicas 1): it is up when the platform is, no call to it is a cold start;
- `demo/work` starts at zero: 12 calls at once are all answered while it wakes (the gateway's wake, not
  the tick, starts it); a burst of slow calls scales it on concurrency (2 per instance) to 3 or more;
  a trickle of calls continues while it scales down (none fails: instances leave the routes, then
  drain); idle, it goes back to zero;
- async calls (`Prefer: respond-async`) are acknowledged (202) once Redis has them; the gateway is
  SIGKILLed while they run, the platform restarts it on the same port, and every acknowledged call
  gets its answer.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

import aiohttp
import pytest
import requests

from scaleplane.functions import client
from scaleplane.local import platform
from tests.support import functioning, waiting

pytestmark = [pytest.mark.servers, pytest.mark.slow, pytest.mark.timeout(300)]

FUNCTIONS = f"""
apiVersion: scaleplane.io/v1alpha1
kind: Function
metadata: {{name: hello, namespace: demo}}
spec: {{handler: "{functioning.HANDLERS / "greet.py"}:main", minReplicas: 1, maxReplicas: 2}}
---
apiVersion: scaleplane.io/v1alpha1
kind: Function
metadata: {{name: work, namespace: demo}}
spec:
  handler: "{functioning.HANDLERS / "greet.py"}:slow"
  concurrency: 2
  minReplicas: 0
  maxReplicas: 4
  idleSeconds: 3
  scaleDownWindowSeconds: 1
"""


async def test_functions_go_zero_to_n_to_zero_and_survive_a_gateway_kill(workdir: Path) -> None:
    policies = workdir / "policies"
    policies.mkdir()
    (policies / "functions.yaml").write_text(FUNCTIONS)
    config = platform.PlatformConfig(state_dir=workdir / "state", policies=policies, tick_seconds=0.5)
    async with platform.Platform(config) as running:
        stop = asyncio.Event()
        loop = asyncio.create_task(running.run(stop))
        try:
            assert running.functions is not None
            gateway = running.functions.gateway_url
            hello = running.targets["FunctionPool/demo.hello"]
            work = running.targets["FunctionPool/demo.work"]
            assert (await hello.read()).ready == 1, "an always-on function starts with the platform"
            assert (await work.read()).current == 0

            async with aiohttp.ClientSession() as session:

                async def call(
                    function: str, /, **params: object
                ) -> tuple[int, dict[str, object], str | None]:
                    url = f"{gateway}/v1/functions/demo/{function}"
                    async with session.post(url, json=params) as answer:
                        return (
                            answer.status,
                            await answer.json(),
                            answer.headers.get("X-Scaleplane-Cold-Start"),
                        )

                status, _, cold = await call("hello", name="Ada")
                assert (status, cold) == (200, None)

                # At zero: every call is answered while the function wakes.
                started = time.monotonic()
                answers = await asyncio.gather(*(call("work", seconds=0.1) for _ in range(12)))
                first_answer = time.monotonic() - started
                assert [a[0] for a in answers] == [200] * 12, answers
                assert any(a[2] is not None for a in answers), "the calls waited for a cold start"
                assert first_answer < 10
                assert "fn-demo-work" in running.woken, "the gateway's wake signal started it"

                # A burst of slow calls scales it on concurrency (2 in flight per instance).
                peak = 0

                async def watch() -> None:
                    nonlocal peak
                    while True:
                        peak = max(peak, (await work.read()).ready)
                        await asyncio.sleep(0.1)

                watcher = asyncio.create_task(watch())
                burst = await asyncio.gather(*(call("work", seconds=4.0) for _ in range(12)))
                assert [a[0] for a in burst] == [200] * 12
                assert peak >= 3, f"a burst of 12 calls (2 per instance) reached only {peak} instances"

                # A trickle while it scales down: instances leave the routes first, then drain.
                trickle = [await call("work", seconds=1.0) for _ in range(4)]
                assert [a[0] for a in trickle] == [200] * 4
                watcher.cancel()

                async def at_zero() -> bool:
                    count = await work.read()
                    return count.current == 0 and count.ready == 0 and not work.members

                await waiting.eventually(at_zero, 30, "idle, the function returns to zero")
                page = requests.get(f"{gateway}/metrics", timeout=5).text
                labels = {"namespace": "demo", "function": "work"}
                assert functioning.metric(page, "scaleplane_gateway_ready_instances", **labels) == 0
                assert functioning.metric(page, "scaleplane_gateway_cold_starts_total", **labels) >= 1
                assert (
                    functioning.metric(
                        page, "scaleplane_gateway_errors_total", **labels, reason="Unreachable"
                    )
                    == 0
                )

            # Acknowledged async calls survive a gateway killed while running them.
            caller = client.Client(gateway, timeout=20)
            ids = [await asyncio.to_thread(caller.submit, "demo/work", seconds=1.5) for _ in range(10)]
            await asyncio.sleep(0.8)  # most are running on instances woken for them
            states = [requests.get(f"{gateway}/v1/calls/{i}", timeout=5).json()["status"] for i in ids]
            assert "running" in states, f"the kill must cut calls off while they run: {states}"
            old_pid = running.functions.gateway.pid  # type: ignore[union-attr]
            assert old_pid is not None
            os.killpg(old_pid, signal.SIGKILL)

            async def restarted() -> bool:
                return running.functions is not None and running.functions.restarts >= 1

            await waiting.eventually(restarted, 20, "the platform restarts the gateway")
            results = [await asyncio.to_thread(caller.result, i, wait=60) for i in ids]
            assert all(r["pid"] > 0 for r in results), results
        finally:
            stop.set()
            await loop
