"""Two gateway processes on one Redis: one is SIGKILLed holding acknowledged async calls, the other
claims them (XAUTOCLAIM once they are idle longer than the calls' whole time limit) and finishes them.

What this shows, and what it does not: no acknowledged call is lost. A call the dead gateway had only
queued (its function had no instance yet) runs exactly once, on the other gateway. A call it had already
forwarded to an instance ran there and runs again on the other gateway: the answer died with the
gateway, so the journal is at-least-once (functions.gateway.journaling), and such a call runs twice.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import requests

from scaleplane.functions import routes
from tests.support import functioning

pytestmark = [pytest.mark.servers, pytest.mark.slow, pytest.mark.timeout(150)]
ASYNC = {"Prefer": "respond-async"}
KEY = routes.FunctionKey("demo", "record")
# The first gateway must still hold every call when it is killed, however long the second one takes to
# start on a loaded machine: the forwarded calls run until the test releases them (or 7 s), queued
# ones wait up to 8 s. A lost call is claimed once idle for 8*2+5 = 21 s.
LIMITS = {"timeoutSeconds": 8, "queueWaitSeconds": 8}


def submit(url: str, tag: str, runs: Path, seconds: float, hold: Path | None = None) -> str:
    answer = requests.post(
        f"{url}/v1/functions/demo/record",
        json={"tag": tag, "runs": str(runs), "seconds": seconds, "hold": str(hold or "")},
        headers=ASYNC,
        timeout=5,
    )
    assert answer.status_code == 202, answer.text  # acknowledged: Redis has it
    return str(answer.json()["id"])


def status(url: str, call_id: str) -> dict[str, Any]:
    return dict(requests.get(f"{url}/v1/calls/{call_id}", timeout=5).json())


def test_a_killed_gateways_acknowledged_calls_are_finished_by_another(tmp_path: Path, redis_db: str) -> None:
    routes_dir, runs, release = tmp_path / "routes", tmp_path / "runs.txt", tmp_path / "release"
    route = routes.route_file(routes_dir, KEY)
    with functioning.runtime(f"{functioning.HANDLERS / 'greet.py'}:record", tmp_path, name="record") as fn:
        instance = [{"name": "a", "url": fn.url}]
        routes.write_endpoints(route, instance)
        first = functioning.start_gateway(tmp_path, routes_dir, journal=redis_db, limits=LIMITS)
        try:
            first.wait_ready()
            time.sleep(0.2)  # it has read its routes
            forwarded = {f"fwd-{i}": submit(first.url, f"fwd-{i}", runs, 7.0, release) for i in range(4)}
            deadline = time.monotonic() + 5
            while sorted(runs.read_text().split() if runs.exists() else []) != sorted(forwarded):
                assert time.monotonic() < deadline, "the first gateway did not forward its calls"
                time.sleep(0.05)
            routes.write_endpoints(route, [])  # at zero: the next calls wait in the first gateway
            time.sleep(0.2)
            queued = {f"queued-{i}": submit(first.url, f"queued-{i}", runs, 0.1) for i in range(4)}
            time.sleep(0.3)
            assert {status(first.url, i)["status"] for i in queued.values()} == {"running"}
            # The second gateway runs beside it (same Redis, same routes) before the first one dies.
            second = functioning.start_gateway(tmp_path, routes_dir, journal=redis_db, limits=LIMITS)
            second.wait_ready()
            first.kill()  # SIGKILL to its process group: no drain, no answer stored, no XACK
            release.touch()  # the forwarded calls end on the instance; their answers have nowhere to go
            routes.write_endpoints(route, instance)
            calls = {**forwarded, **queued}
            deadline = time.monotonic() + 50
            done: dict[str, dict[str, Any]] = {}
            while len(done) < len(calls) and time.monotonic() < deadline:
                for tag, call_id in calls.items():
                    if tag not in done and (answer := status(second.url, call_id))["status"] == "done":
                        done[tag] = answer
                time.sleep(0.2)
            claimed = second.log.read_text().count("claimed call")
        finally:
            first.kill()
            if "second" in locals():
                second.kill()
    assert sorted(done) == sorted(calls), f"calls lost: {sorted(set(calls) - set(done))}"
    assert {a["statusCode"] for a in done.values()} == {200}
    assert all(done[tag]["result"] == {"tag": tag} for tag in calls)
    assert claimed == len(calls), "the second gateway claimed every call the first one held"
    times = {tag: runs.read_text().split().count(tag) for tag in calls}
    assert {times[tag] for tag in queued} == {1}, f"a queued call ran exactly once: {times}"
    assert {times[tag] for tag in forwarded} == {2}, f"a forwarded call ran twice (at-least-once): {times}"
