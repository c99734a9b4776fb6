"""Asynchronous calls through the journal in a real Redis: 202 only once stored, results by id, tokens."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import requests

from scaleplane.functions import routes
from tests.support import functioning
from tests.support.endpoints import free_port

pytestmark = pytest.mark.servers
GREET = functioning.HANDLERS / "greet.py"
ASYNC = {"Prefer": "respond-async"}
TOKEN = {"Authorization": "Bearer journal-token-1"}


def wait_done(url: str, call_id: str, headers: dict[str, str]) -> dict[str, Any]:
    deadline = time.monotonic() + 15
    while True:
        answer = requests.get(f"{url}/v1/calls/{call_id}", headers=headers, timeout=5).json()
        if answer.get("status") == "done" or time.monotonic() > deadline:
            return dict(answer)
        time.sleep(0.1)


def test_an_async_call_is_stored_then_answered_and_only_its_namespace_reads_it(
    tmp_path: Path, redis_server: Any
) -> None:
    routes_dir = tmp_path / "routes"
    journal = redis_server.url.rsplit("/", 1)[0] + "/7"
    namespaces = {"secure": {"tokens": ["journal-token-1"]}}
    with (
        functioning.runtime(f"{GREET}:main", tmp_path) as fn,
        functioning.gateway(tmp_path, routes_dir, journal=journal, namespaces=namespaces) as gw,
    ):
        routes.write_endpoints(
            routes.route_file(routes_dir, routes.FunctionKey("secure", "hello")),
            [{"name": "a", "url": fn.url}],
        )
        time.sleep(0.2)
        accepted = requests.post(
            f"{gw.url}/v1/functions/secure/hello", json={"name": "Ada"}, headers={**ASYNC, **TOKEN}, timeout=5
        )
        assert accepted.status_code == 202, accepted.text
        call_id = accepted.json()["id"]
        assert accepted.headers["Location"] == f"/v1/calls/{call_id}"
        done = wait_done(gw.url, call_id, TOKEN)
        assert (done["status"], done["statusCode"], done["result"]["text"]) == ("done", 200, "hello Ada")
        stranger = requests.get(f"{gw.url}/v1/calls/{call_id}", timeout=5)
        assert (stranger.status_code, stranger.json()["error"]["code"]) == (404, "NotFound")
        bad = requests.post(
            f"{gw.url}/v1/functions/secure/hello", json={"times": 1}, headers={**ASYNC, **TOKEN}, timeout=5
        )
        failed = wait_done(gw.url, bad.json()["id"], TOKEN)
        assert (failed["statusCode"], failed["error"]["code"]) == (422, "InvalidParameters")


def test_without_a_journal_or_with_redis_down_an_async_call_is_refused(tmp_path: Path) -> None:
    routes_dir = tmp_path / "routes"
    routes.write_endpoints(routes.route_file(routes_dir, routes.FunctionKey("demo", "hello")), [])
    with functioning.gateway(tmp_path, routes_dir) as gw:
        answer = requests.post(f"{gw.url}/v1/functions/demo/hello", json={}, headers=ASYNC, timeout=5)
        assert (answer.status_code, answer.json()["error"]["code"]) == (501, "AsyncNotEnabled")
    down = f"redis://127.0.0.1:{free_port()}/0"
    with functioning.gateway(tmp_path, routes_dir, journal=down) as gw:
        answer = requests.post(f"{gw.url}/v1/functions/demo/hello", json={}, headers=ASYNC, timeout=10)
        assert (answer.status_code, answer.json()["error"]["code"]) == (503, "JournalUnavailable")
        assert answer.headers["Retry-After"] == "1"
