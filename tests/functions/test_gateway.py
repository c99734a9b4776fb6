"""The gateway and the runtime as real processes: routing, balancing, zero, limits, errors, drains."""

from __future__ import annotations

import asyncio
import concurrent.futures
import time
from pathlib import Path

import aiohttp
import pytest
import requests

from scaleplane.functions import client, routes
from tests.support import functioning
from tests.support.endpoints import free_port

pytestmark = pytest.mark.servers
GREET = functioning.HANDLERS / "greet.py"
KEY = routes.FunctionKey("demo", "hello")


def publish(routes_dir: Path, *urls: str, key: routes.FunctionKey = KEY) -> None:
    routes.write_endpoints(routes.route_file(routes_dir, key), [{"name": u, "url": u} for u in urls])


def post(url: str, function: str = "demo/hello", timeout: float = 15, **params: object) -> requests.Response:
    return requests.post(f"{url}/v1/functions/{function}", json=params, timeout=timeout)


def test_a_call_is_routed_and_errors_are_json(tmp_path: Path) -> None:
    routes_dir = tmp_path / "routes"
    settings = {
        "namespaces": {"secure": {"tokens": ["t0ps3cret-token"]}},
        "limits": {"maxBodyBytes": 2000, "timeoutSeconds": 1},
    }
    with (
        functioning.runtime(f"{GREET}:main", tmp_path) as fn,
        functioning.runtime(f"{GREET}:conflict", tmp_path) as conflicting,
        functioning.runtime(f"{GREET}:slow", tmp_path) as slow,
        functioning.gateway(tmp_path, routes_dir, **settings) as gw,
    ):
        publish(routes_dir, fn.url)
        publish(routes_dir, conflicting.url, key=routes.FunctionKey("demo", "conflict"))
        publish(routes_dir, slow.url, key=routes.FunctionKey("demo", "slow"))
        publish(routes_dir, fn.url, key=routes.FunctionKey("secure", "hello"))
        time.sleep(0.2)

        answer = post(gw.url, name="Ada", times=2)
        assert answer.status_code == 200
        assert answer.json()["result"]["text"] == "hello Ada hello Ada"

        cases = [
            (post(gw.url, name="Ada", times="x"), 422, "InvalidParameters"),
            (post(gw.url, "demo/conflict", item="a"), 409, "Conflict"),
            (post(gw.url, "demo/nothing"), 404, "NotFound"),
            (post(gw.url, "secure/hello", name="Ada"), 401, "Unauthorized"),
            (
                requests.post(f"{gw.url}/v1/functions/demo/hello", data="x" * 5000, timeout=5),
                413,
                "RequestTooLarge",
            ),
            (post(gw.url, "demo/slow", seconds=3), 504, "TimedOut"),
        ]
        for response, status, code in cases:
            assert (response.status_code, response.json()["error"]["code"]) == (status, code), response.text

        authorized = requests.post(
            f"{gw.url}/v1/functions/secure/hello", json={"name": "Bo"},
            headers={"Authorization": "Bearer t0ps3cret-token"}, timeout=5,
        )  # fmt: skip
        assert authorized.status_code == 200

        page = requests.get(f"{gw.url}/metrics", timeout=5).text
        labels = {"namespace": "demo", "function": "hello"}
        assert functioning.metric(page, "scaleplane_gateway_requests_total", **labels, code="200") == 1
        assert functioning.metric(page, "scaleplane_gateway_requests_total", **labels, code="422") == 1
        slow_labels = {"namespace": "demo", "function": "slow"}
        assert (
            functioning.metric(page, "scaleplane_gateway_errors_total", **slow_labels, reason="TimedOut") == 1
        )
        assert functioning.metric(page, "scaleplane_gateway_ready_instances", **labels) == 1


def test_calls_go_to_the_least_loaded_ready_instance(tmp_path: Path) -> None:
    routes_dir = tmp_path / "routes"
    with (
        functioning.runtime(f"{GREET}:slow", tmp_path) as one,
        functioning.runtime(f"{GREET}:slow", tmp_path) as two,
        functioning.gateway(tmp_path, routes_dir) as gw,
    ):
        publish(routes_dir, one.url, two.url)
        time.sleep(0.2)
        with concurrent.futures.ThreadPoolExecutor(10) as pool:
            answers = list(pool.map(lambda _: post(gw.url, seconds=0.6), range(10)))
        pids = [a.json()["result"]["pid"] for a in answers]
        assert sorted(pids.count(p) for p in set(pids)) == [5, 5]

        publish(routes_dir, two.url)  # one is no longer ready: nothing more goes there
        time.sleep(0.2)
        pids = {post(gw.url, seconds=0).json()["result"]["pid"] for _ in range(4)}
        assert pids == {two.process.pid}


async def test_a_call_at_zero_wakes_the_function_at_once_and_is_answered(tmp_path: Path) -> None:
    routes_dir = tmp_path / "routes"
    publish(routes_dir)  # known, at zero
    async with functioning.Waker(tmp_path, routes_dir, f"{GREET}:main") as waker:
        gw = functioning.start_gateway(tmp_path, routes_dir, wakeUrl=waker.url)
        try:
            await asyncio.to_thread(gw.wait_ready)
            page = requests.get(f"{gw.url}/metrics", timeout=5).text
            labels = {"namespace": "demo", "function": "hello"}
            assert functioning.metric(page, "scaleplane_gateway_queued_requests", **labels) == 0, (
                "exists at zero"
            )
            assert functioning.metric(page, "scaleplane_gateway_cold_starts_total", **labels) == 0

            sent = time.monotonic()
            async with aiohttp.ClientSession() as session:

                async def one(i: int) -> tuple[int, dict[str, object], str | None]:
                    async with session.post(f"{gw.url}/v1/functions/demo/hello", json={"name": f"n{i}"}) as r:
                        return r.status, await r.json(), r.headers.get("X-Scaleplane-Cold-Start")

                answers = await asyncio.gather(*(one(i) for i in range(20)))
            assert [a[0] for a in answers] == [200] * 20, "no call lost while the function woke"
            assert {a[1]["result"]["text"] for a in answers} == {f"hello n{i}" for i in range(20)}  # type: ignore[index]
            assert waker.woken and waker.woken[0][0] == "demo/hello"
            assert waker.woken[0][1] - sent < 2, "the wake is sent when the first call queues, not later"
            assert all(a[2] is not None for a in answers)

            page = requests.get(f"{gw.url}/metrics", timeout=5).text
            assert functioning.metric(page, "scaleplane_gateway_cold_starts_total", **labels) == 1
            assert functioning.metric(page, "scaleplane_gateway_cold_start_seconds_count", **labels) == 1
            assert functioning.metric(page, "scaleplane_gateway_queued_requests", **labels) == 0
        finally:
            gw.kill()


def test_queue_full_is_429_and_no_instance_in_time_is_504(tmp_path: Path) -> None:
    routes_dir = tmp_path / "routes"
    publish(routes_dir)  # at zero, and nothing will wake it
    limits = {"maxQueue": 2, "queueWaitSeconds": 1}
    with (
        functioning.gateway(tmp_path, routes_dir, limits=limits) as gw,
        concurrent.futures.ThreadPoolExecutor(3) as pool,
    ):
        waiting = [pool.submit(post, gw.url) for _ in range(2)]
        time.sleep(0.3)
        full = post(gw.url)
        assert (full.status_code, full.json()["error"]["code"]) == (429, "QueueFull")
        assert full.headers["Retry-After"] == "1"
        for future in waiting:
            answer = future.result()
            assert (answer.status_code, answer.json()["error"]["code"]) == (504, "NoInstance")


def test_the_runtime_drains_calls_in_flight_on_sigterm(tmp_path: Path) -> None:
    with functioning.runtime(f"{GREET}:slow", tmp_path) as fn:
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            call = pool.submit(requests.post, f"{fn.url}/invoke", json={"seconds": 1.0}, timeout=10)
            time.sleep(0.3)
            fn.terminate()
            time.sleep(0.1)
            assert requests.get(f"{fn.url}/readyz", timeout=2).status_code == 503
            assert call.result().status_code == 200
        assert fn.process.wait(10) == 0


def test_the_gateway_drains_on_sigterm(tmp_path: Path) -> None:
    routes_dir = tmp_path / "routes"
    with (
        functioning.runtime(f"{GREET}:slow", tmp_path) as fn,
        functioning.gateway(tmp_path, routes_dir) as gw,
    ):
        publish(routes_dir, fn.url)
        time.sleep(0.2)
        with concurrent.futures.ThreadPoolExecutor(5) as pool:
            calls = [pool.submit(post, gw.url, seconds=1.0) for _ in range(5)]
            time.sleep(0.3)
            gw.terminate()
            time.sleep(0.1)
            refused = post(gw.url, seconds=0)
            assert (refused.status_code, refused.json()["error"]["code"]) == (503, "ShuttingDown")
            assert [c.result().status_code for c in calls] == [200] * 5
        assert gw.process.wait(10) == 0


async def test_the_client_retries_only_what_never_ran(tmp_path: Path) -> None:
    routes_dir = tmp_path / "routes"
    with functioning.runtime(f"{GREET}:main", tmp_path) as fn:
        publish(routes_dir, fn.url)
        port = free_port()
        caller = client.Client(f"http://127.0.0.1:{port}", timeout=20)
        # The gateway is not up yet: the call is refused (never sent), retried, and answered once it is.
        pending = asyncio.create_task(caller.call_async("demo/hello", name="Ada"))
        await asyncio.sleep(0.5)
        gw = functioning.start_gateway(tmp_path, routes_dir, listen=f"127.0.0.1:{port}")
        try:
            assert (await pending)["text"] == "hello Ada"
            assert (await asyncio.to_thread(caller.call, "demo/hello", name="Bo"))["text"] == "hello Bo"
            with pytest.raises(client.CallError) as caught:
                await asyncio.to_thread(caller.call, "demo/hello", times=1)
            assert (caught.value.status, caught.value.code) == (422, "InvalidParameters")
            page = requests.get(f"{gw.url}/metrics", timeout=5).text
            labels = {"namespace": "demo", "function": "hello"}
            assert functioning.metric(page, "scaleplane_gateway_requests_total", **labels, code="422") == 1
        finally:
            gw.kill()
    with pytest.raises(ValueError, match="'namespace/name', was 'hello'"):
        caller.call("hello")


def test_a_function_that_leaves_the_routes_finishes_its_calls_and_takes_no_new_one(tmp_path: Path) -> None:
    routes_dir = tmp_path / "routes"
    with (
        functioning.runtime(f"{GREET}:slow", tmp_path) as fn,
        functioning.gateway(tmp_path, routes_dir) as gw,
    ):
        publish(routes_dir, fn.url)
        time.sleep(0.2)
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            running = pool.submit(post, gw.url, seconds=1.0)
            time.sleep(0.3)
            routes.route_file(routes_dir, KEY).unlink()  # deleted (fn delete does this first)
            time.sleep(0.2)
            refused = post(gw.url, seconds=0)
            assert (refused.status_code, refused.json()["error"]["code"]) == (404, "NotFound")
            assert running.result().status_code == 200, "the call in flight finished"
        time.sleep(0.2)
        listed = requests.get(f"{gw.url}/v1/functions", timeout=5).json()["functions"]
        assert listed == [], "its route went once its calls ended"
