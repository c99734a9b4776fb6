"""`scaleplane fn call NS/NAME --gateway URL` against a real gateway process and a real runtime: the way a
cluster's gateway is called through `kubectl port-forward` (docs/functions.md), the same as locally.
The namespace's token, the gateway's JSON errors and a gateway that is not there, through the CLI."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from scaleplane.functions import routes
from tests.operator.test_releasing import fn
from tests.support import functioning
from tests.support.endpoints import free_port

pytestmark = pytest.mark.servers
TOKEN = "team-secure-token-1"


async def test_fn_call_through_a_gateway_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SCALEPLANE_TOKEN", raising=False)
    monkeypatch.delenv("SCALEPLANE_GATEWAY_URL", raising=False)
    routes_dir = tmp_path / "routes"
    settings = {"namespaces": {"secure": {"tokens": [TOKEN]}}}
    with (
        functioning.runtime(f"{functioning.HANDLERS / 'greet.py'}:main", tmp_path) as instance,
        functioning.gateway(tmp_path, routes_dir, **settings) as gw,
    ):
        for namespace in ("demo", "secure"):
            key = routes.FunctionKey(namespace, "hello")
            routes.write_endpoints(routes.route_file(routes_dir, key), [{"name": "a", "url": instance.url}])
        time.sleep(0.2)  # the gateway re-reads its route directory

        code, out = await fn(
            "call", "demo/hello", "--params", '{"name": "Ada", "times": 2}', "--gateway", gw.url
        )
        assert code == 0, out
        assert json.loads(out)["text"] == "hello Ada hello Ada"
        # The state directory has no platform: the answer came from --gateway, nothing local.
        code, out = await fn("call", "secure/hello", "--params", '{"name": "Bo"}', "--gateway", gw.url)
        assert code == 1 and "401 Unauthorized" in out and len(out.splitlines()) == 1, out
        monkeypatch.setenv("SCALEPLANE_GATEWAY_URL", gw.url)  # what the client SDK reads, too
        code, out = await fn("call", "secure/hello", "--params", '{"name": "Bo"}', "--token", TOKEN)
        assert code == 0 and json.loads(out)["text"] == "hello Bo", out
        code, out = await fn("call", "demo/nothing")
        assert code == 1 and "404 NotFound" in out, out

    gone = f"http://127.0.0.1:{free_port()}"
    code, out = await fn("call", "demo/hello", "--gateway", gone, "--timeout", "1")
    assert code == 1 and out.startswith("error: demo/hello: 0 ConnectionRefused"), out
    code, out = await fn("call", "demo/hello", "--gateway", "127.0.0.1:8080")
    assert code == 2 and "--gateway: must be an http(s)://HOST[:PORT] URL" in out, out
