"""`scaleplane fn deploy | list | rollback | delete --context ...` against a Kubernetes API (kmock):
versions as ConfigMaps named by the Function, rollback, concurrent deploys, and the faults a user meets.

The CLI runs as a user runs it (Typer's runner, in a thread: the emulator answers on this test's event
loop), with a kubeconfig whose current context points at a dead port, so every command that works
proves `--context` was honoured. The emulator checks the bearer token and `resourceVersion` the way an
API server does (tests/support/kmock_cluster.py).
"""

from __future__ import annotations

import asyncio
import importlib
import json
import shutil
from pathlib import Path

import yaml
from typer.testing import CliRunner

import scaleplane.cli
from scaleplane.cli import app as cli_app
from scaleplane.operator.releases import releasing
from tests.support.endpoints import free_port
from tests.support.kmock_cluster import kube_client
from tests.support.operating import FUNCTION, cluster_api

REPO = Path(__file__).resolve().parents[2]
CONFIGMAPS = "v1/configmaps"
TOKEN = "fn-deployer-token-1"


def kubeconfig(path: Path, url: str) -> Path:
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {"name": "kmock", "cluster": {"server": url}},
            {"name": "gone", "cluster": {"server": f"http://127.0.0.1:{free_port()}"}},
        ],
        "users": [{"name": "deployer", "user": {"token": TOKEN}}],
        "contexts": [
            {"name": "kmock", "context": {"cluster": "kmock", "user": "deployer"}},
            {"name": "gone", "context": {"cluster": "gone", "user": "deployer"}},
        ],
        "current-context": "gone",
    }
    path.write_text(yaml.safe_dump(config))
    return path


async def fn(*args: str) -> tuple[int, str]:
    for name in scaleplane.cli.COMMAND_MODULES:
        importlib.import_module(f"scaleplane.cli.{name}")
    result = await asyncio.to_thread(CliRunner().invoke, cli_app.app, ["fn", *args])
    out = result.stdout + result.stderr
    assert "Traceback" not in out, out
    return result.exit_code, out


def function_dir(tmp_path: Path, name: str, namespace: str = "demo") -> Path:
    folder = tmp_path / name
    shutil.copytree(REPO / "examples" / "functions" / "greet", folder)
    descriptor = folder / "function.yaml"
    descriptor.write_text(descriptor.read_text().replace("namespace: demo", f"namespace: {namespace}"))
    return folder


async def test_deploy_list_rollback_delete_on_a_cluster(tmp_path: Path) -> None:
    async with cluster_api() as (cluster, url):
        cluster.resources[CONFIGMAPS] = {"namespaced": True, "verbs": ["*"], "kind": "ConfigMap"}
        cluster.tokens = {TOKEN}
        config = str(kubeconfig(tmp_path / "kubeconfig", url))
        on = ("--kubeconfig", config, "--context", "kmock")
        greet = function_dir(tmp_path, "greet")

        code, out = await fn("deploy", str(greet), *on)
        assert code == 0 and "deployed demo/greet v1" in out, out
        (greet / "handler.py").write_text((greet / "handler.py").read_text() + "\n# v2: the same, faster\n")
        descriptor = greet / "function.yaml"
        descriptor.write_text(descriptor.read_text().replace("concurrency: 4", "concurrency: 8"))
        code, out = await fn("deploy", str(greet), "--note", "faster", *on)
        assert code == 0 and "deployed demo/greet v2 (versions 1,2)" in out, out

        function = cluster.read_object(FUNCTION, "demo", "greet")
        assert function is not None
        assert function["spec"]["source"] == {
            "configMap": "greet-v2", "key": "handler.py", "function": "main", "version": "2",
        }  # fmt: skip
        assert function["spec"]["concurrency"] == 8 and function["spec"]["minReplicas"] == 0
        v2 = cluster.read_object(CONFIGMAPS, "demo", "greet-v2")
        assert v2 is not None and v2["data"]["handler.py"].endswith("# v2: the same, faster\n")
        assert json.loads(v2["data"]["function.json"])["note"] == "faster"

        code, out = await fn("list", "--json", *on)
        assert code == 0, out
        assert json.loads(out)["cluster"] == [
            {"function": "demo/greet", "current": 2, "versions": [1, 2], "ready": None}
        ]

        code, out = await fn("rollback", "demo/greet", *on)
        assert code == 0 and "demo/greet is at v1 again" in out, out
        function = cluster.read_object(FUNCTION, "demo", "greet")
        assert function is not None
        assert (function["spec"]["source"]["configMap"], function["spec"]["concurrency"]) == ("greet-v1", 4)
        code, out = await fn("rollback", "demo/greet", "--to", "7", *on)
        assert code == 2 and "--to 7: no such version (versions: [1, 2])" in out, out

        # A concurrent deploy's write lands first (409 on ours): re-read, apply on top, keep both.
        cluster.inject("PATCH", "/functions/greet", status=409, times=2)
        code, out = await fn("deploy", str(greet), *on)
        assert code == 0 and "deployed demo/greet v3 (versions 1,2,3)" in out, out
        # Two deploys at once, for real (two clients, interleaved on one loop): both versions are kept.
        deployers = [kube_client(url, user={"token": TOKEN}) for _ in range(2)]
        try:
            code_text = (greet / "handler.py").read_text()
            both = await asyncio.gather(
                *(releasing.deploy(c, "demo", "greet", code_text, {"concurrency": 4}) for c in deployers)
            )
        finally:
            for deployer in deployers:
                await deployer.close()
        assert sorted(r.version for r in both) == [4, 5]
        function = cluster.read_object(FUNCTION, "demo", "greet")
        assert function is not None
        kept = [
            v["version"] for v in json.loads(function["metadata"]["annotations"]["scaleplane.io/versions"])
        ]
        assert kept == [1, 2, 3, 4, 5]
        # A conflict that never ends is reported, not retried forever.
        cluster.inject("PATCH", "/functions/greet", status=409, times=50)
        code, out = await fn("deploy", str(greet), *on)
        assert code == 1 and "changed under every one of 5 attempts" in out, out
        assert cluster.read_object(CONFIGMAPS, "demo", "greet-v6") is None, "its version is not left over"
        cluster.faults.clear()

        # The faults a user meets: a namespace that does not exist, a token that expired, no server.
        cluster.inject("POST", "/namespaces/nowhere/", status=404, times=1)
        code, out = await fn("deploy", str(function_dir(tmp_path, "lost", "nowhere")), *on)
        assert code == 1 and "does the namespace exist" in out, out
        cluster.tokens = {"rotated-token-2"}
        code, out = await fn("list", *on)
        assert code == 1 and "refused the credentials (expired or revoked token)" in out, out
        assert cluster.refused >= 1
        cluster.tokens = {TOKEN}
        code, out = await fn("list", "--kubeconfig", config)  # its current context: a dead port
        assert code == 1 and "cannot reach the API server" in out, out
        code, out = await fn("list", "--kubeconfig", config, "--context", "nope")
        assert code == 2 and f"--context nope: not a context of {config} (it has: gone, kmock)" in out, out

        code, out = await fn("delete", "demo/greet", *on)
        assert code == 0 and "its 5 version(s)" in out, out
        assert cluster.read_object(FUNCTION, "demo", "greet") is None
        assert all(cluster.read_object(CONFIGMAPS, "demo", f"greet-v{n}") is None for n in range(1, 7))
        code, out = await fn("rollback", "demo/greet", *on)
        assert code == 2 and "no such Function" in out, out
