"""Real function runtimes and gateways as processes on 127.0.0.1, for the function tests and e2e.

    with runtime("tests/functions/handlers/greet.py:main") as url: ...
    with gateway(tmp_path, routes_dir, wake_url=...) as url: ...
    async with Waker(tmp_path, routes_dir, reference) as waker: ...   # the platform's side of a wake

Each process runs in its own session and is killed with its group when the block ends, pass or fail.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import requests
import yaml

from tests.support import rbac_checks
from tests.support.endpoints import free_port, serve

HANDLERS = Path(__file__).resolve().parent.parent / "functions" / "handlers"


class Server:
    def __init__(self, argv: list[str], url: str, log: Path) -> None:
        self.url = url
        self.log = log
        self.process = subprocess.Popen(
            argv, stdout=log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )  # fmt: skip

    def wait_ready(self, timeout: float = 20.0) -> Server:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"{self.url} exited {self.process.returncode}: {self.log.read_text()[-2000:]}"
                )
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"{self.url}/readyz", timeout=0.5).status_code == 200:
                    return self
            time.sleep(0.02)
        raise TimeoutError(f"{self.url} not ready after {timeout} s: {self.log.read_text()[-2000:]}")

    def terminate(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)


def start_runtime(reference: str, log_dir: Path, *, name: str = "hello", namespace: str = "demo") -> Server:
    port = free_port()
    argv = [
        sys.executable, "-m", "scaleplane.functions.hosting", "--handler", reference, "--port", str(port),
        "--namespace", namespace, "--name", name, "--drain-seconds", "10",
    ]  # fmt: skip
    return Server(argv, f"http://127.0.0.1:{port}", log_dir / f"runtime-{port}.log")


@contextlib.contextmanager
def _ready(start: Callable[[], Server]) -> Iterator[Server]:
    """A server started on entering, once it answers /readyz; killed on exit however the test ends."""
    server = start()
    try:
        yield server.wait_ready()
    finally:
        server.kill()


def runtime(reference: str, log_dir: Path, **kwargs: Any) -> contextlib.AbstractContextManager[Server]:
    return _ready(lambda: start_runtime(reference, log_dir, **kwargs))


def start_gateway(work: Path, routes_dir: Path, **settings: Any) -> Server:
    port = free_port()
    config = {"listen": f"127.0.0.1:{port}", "routes": str(routes_dir), **settings}
    path = work / f"gateway-{port}.yaml"
    path.write_text(yaml.safe_dump(config))
    argv = [sys.executable, "-m", "scaleplane.gateway", "--config", str(path)]
    return Server(argv, f"http://{config['listen']}", work / f"gateway-{port}.log")


def gateway(work: Path, routes_dir: Path, **settings: Any) -> contextlib.AbstractContextManager[Server]:
    return _ready(lambda: start_gateway(work, routes_dir, **settings))


class Waker:
    """The platform's side of a wake, for real: `POST {url}/v1/wake/NS/NAME` starts a runtime of
    `reference` (on the first wake only) and publishes it in the routes once it is ready."""

    def __init__(self, work: Path, routes_dir: Path, reference: str, **runtime_args: Any) -> None:
        self.work, self.routes_dir, self.reference = work, routes_dir, reference
        self.runtime_args = runtime_args
        self.woken: list[tuple[str, float]] = []
        self.servers: list[Server] = []
        self.url = ""
        self._runner: Any = None

    async def wake(self, request: Any) -> Any:
        from aiohttp import web

        from scaleplane.functions import routes

        key = routes.FunctionKey(request.match_info["namespace"], request.match_info["name"])
        self.woken.append((f"{key.namespace}/{key.name}", time.monotonic()))
        if len(self.woken) == 1:
            server = start_runtime(self.reference, self.work, **self.runtime_args)
            self.servers.append(server)
            asyncio.get_running_loop().run_in_executor(None, self._publish_when_ready, server, key)
        return web.json_response({"woken": f"{key.namespace}/{key.name}"}, status=202)

    def _publish_when_ready(self, server: Server, key: Any) -> None:
        from scaleplane.functions import routes

        url = server.wait_ready().url
        routes.write_endpoints(routes.route_file(self.routes_dir, key), [{"name": url, "url": url}])

    async def __aenter__(self) -> Waker:
        from aiohttp import web

        app = web.Application()
        app.router.add_post("/v1/wake/{namespace}/{name}", self.wake)
        self._runner, self.url = await serve(app)
        return self

    async def __aexit__(self, *_: object) -> None:
        for server in self.servers:
            server.kill()
        await self._runner.cleanup()


def metric(text: str, name: str, **labels: str) -> float | None:
    """One sample's value from a /metrics page (labels must all match), or None."""
    from prometheus_client.parser import text_string_to_metric_families

    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    return None


def rbac_verb(request: Any) -> tuple[str, str, str] | None:
    """The RBAC (group, resource[/subresource], verb) a kmock-recorded request needs; None for discovery
    (rbac_checks.need_of, which tests/e2e/test_operator_rbac.py uses for the operator, without the
    namespace and name)."""
    need = rbac_checks.need_of(request)
    return None if need is None else (need.group, need.resource, need.verb)


class ScriptedChat:
    """A local server speaking the OpenAI chat-completions protocol with scripted answers (no model):
    what `fn generate` tests talk to. `answers` are returned in order (the last one repeats)."""

    def __init__(self, *answers: str) -> None:
        self.answers = list(answers)
        self.requests: list[dict[str, Any]] = []
        self.url = ""
        self._runner: Any = None

    async def __aenter__(self) -> ScriptedChat:
        from aiohttp import web

        async def complete(request: web.Request) -> web.Response:
            self.requests.append(await request.json())
            content = self.answers[min(len(self.requests), len(self.answers)) - 1]
            return web.json_response(
                {"choices": [{"index": 0, "message": {"role": "assistant", "content": content}}]}
            )

        app = web.Application()
        app.router.add_post("/v1/chat/completions", complete)
        self._runner, self.url = await serve(app)
        return self

    async def __aexit__(self, *_: object) -> None:
        await self._runner.cleanup()


def chat_answer(handler: str, tests: str) -> str:
    return (
        f"Here you go.\n\n```python handler.py\n{handler}\n```\n\n```python test_handler.py\n{tests}\n```\n"
    )


# A generated function and its tests, as a chat server would answer them (fn generate tests).
ADDER_HANDLER = """
from scaleplane.functions.handlers import FunctionError


def main(a: int, b: int) -> dict[str, int]:
    if a < 0 or b < 0:
        raise FunctionError("only natural numbers", status=422, code="Negative")
    return {"sum": a + b}
"""
ADDER_TESTS = """
import handler
from scaleplane.functions.handlers import FunctionError


def test_adds():
    assert handler.main(2, 3) == {"sum": 5}


def test_refuses_negatives():
    try:
        handler.main(-1, 3)
    except FunctionError as exc:
        assert exc.code == "Negative"
    else:
        raise AssertionError("no error")
"""
