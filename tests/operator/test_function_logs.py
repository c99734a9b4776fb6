"""`scaleplane fn logs NAMESPACE/NAME --context ...` against a Kubernetes API (kmock): the instance pods
found by the operator's label, each pod's log from the pods log API (scripted on the emulator by path,
as a kubelet would answer it through the API server), and the faults a user meets.

The kubeconfig's current context points at a dead port (tests/operator/test_releasing.py), so a command
that works proves `--context` was honoured; the emulator checks the bearer token.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import yaml

from tests.operator.test_releasing import REPO, TOKEN, fn, kubeconfig
from tests.support import rbac_checks
from tests.support.operating import FUNCTION, cluster_api

PODS = "v1/pods"
DEVELOPER = {"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "jane@example.com"}


def pod(name: str, function: str, phase: str = "Running") -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "demo", "labels": {"scaleplane.io/function": function}},
        "spec": {"containers": [{"name": "function", "image": "scaleplane"}]},
        "status": {"phase": phase},
    }


def function(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "scaleplane.io/v1alpha1",
        "kind": "Function",
        "metadata": {"name": name, "namespace": "demo"},
        "spec": {"source": {"configMap": f"{name}-v1", "key": "handler.py", "version": "1"}},
    }


async def streamed(name: str) -> AsyncIterator[bytes]:
    """A followed log: lines a little apart, then the pod stops (the stream ends)."""
    for n in range(1, 3):
        await asyncio.sleep(0.05)
        yield f"{name} live {n}\n".encode()


async def test_logs_of_a_functions_pods_on_a_cluster(tmp_path: Path) -> None:
    async with cluster_api() as (cluster, url):
        cluster.resources[PODS] = {"namespaced": True, "verbs": ["*"], "kind": "Pod"}
        cluster.tokens = {TOKEN}
        on = ("--kubeconfig", str(kubeconfig(tmp_path / "kubeconfig", url)), "--context", "kmock")
        cluster.put_object(FUNCTION, function("greet"))
        cluster.put_object(FUNCTION, function("idle"))
        for name in ("greet-7d9f-b", "greet-7d9f-a"):
            cluster.put_object(PODS, pod(name, "greet"))
        cluster.put_object(PODS, pod("other-5c4b-a", "other"))  # another Function's pod: not shown
        asked: list[dict[str, str]] = []

        def log_of(name: str) -> Any:
            def answer(request: Any) -> Any:
                asked.append({"pod": name, **request.params})
                if request.params.get("follow") == "true":
                    return streamed(name)
                return "".join(f"{name} call {n}\n" for n in range(1, 4)).encode()

            return answer

        for name in ("greet-7d9f-a", "greet-7d9f-b"):
            cluster[f"get /api/v1/namespaces/demo/pods/{name}/log"] << log_of(name)

        code, out = await fn("logs", "demo/greet", "--lines", "3", "--since", "600", *on)
        assert code == 0, out
        assert out.splitlines() == [
            *(f"[greet-7d9f-a] greet-7d9f-a call {n}" for n in range(1, 4)),
            *(f"[greet-7d9f-b] greet-7d9f-b call {n}" for n in range(1, 4)),
        ]
        assert asked == [
            {"pod": p, "tailLines": "3", "sinceSeconds": "600"} for p in ("greet-7d9f-a", "greet-7d9f-b")
        ]
        listed = [r for r in cluster["get /api/v1/namespaces/demo/pods"] if r.name is None]
        assert listed and all(r.params["labelSelector"] == "scaleplane.io/function=greet" for r in listed)

        # Every request it made is one the documented Role allows in that namespace.
        role = list(yaml.safe_load_all((REPO / "operator" / "function-developer.yaml").read_text()))
        wanted = rbac_checks.needs(cluster)
        assert {(n.resource, n.verb) for n in wanted} == {
            ("functions", "get"),
            ("pods", "list"),
            ("pods/log", "get"),
        }
        assert not rbac_checks.refused(wanted, rbac_checks.grants(role, DEVELOPER))

        # A pod that goes away between the listing and its log: the others are still shown.
        cluster.inject("GET", "/pods/greet-7d9f-b/log", status=404, times=1)
        code, out = await fn("logs", "demo/greet", *on)
        assert code == 0, out
        assert "[greet-7d9f-a] greet-7d9f-a call 3" in out
        assert "[greet-7d9f-b] (gone: deleted while the logs were read)" in out, out

        # --follow: both pods' streams at once, as their lines come, until the pods stop.
        asked.clear()
        code, out = await fn("logs", "demo/greet", "--follow", "--lines", "1", *on)
        assert code == 0, out
        assert sorted(out.splitlines()) == sorted(
            f"[{p}] {p} live {n}" for p in ("greet-7d9f-a", "greet-7d9f-b") for n in (1, 2)
        ), out
        assert {a["follow"] for a in asked} == {"true"} and len(asked) == 2
        cluster.inject("GET", "/pods/greet-7d9f-a/log", status=404, times=1)
        code, out = await fn("logs", "demo/greet", "-f", *on)
        assert code == 0 and "[greet-7d9f-a] (gone: deleted while the logs were read)" in out, out
        assert "[greet-7d9f-b] greet-7d9f-b live 2" in out, out

        # A Function at zero has no pods: said plainly, not an error.
        code, out = await fn("logs", "demo/idle", *on)
        assert code == 0 and "demo/idle has no instance pods (label scaleplane.io/function=idle)" in out, out

        # No such Function; credentials refused; not allowed: one `error:` line each.
        code, out = await fn("logs", "demo/nope", *on)
        assert code == 2 and out.startswith("error: no such Function demo/nope"), out
        cluster.inject("GET", "/namespaces/demo/pods", status=403, times=1)
        code, out = await fn("logs", "demo/greet", *on)
        assert code == 1 and "list on pods and get on pods/log" in out and len(out.splitlines()) == 1, out
        cluster.tokens = {"rotated-token-2"}
        code, out = await fn("logs", "demo/greet", *on)
        assert code == 1 and "refused the credentials" in out and len(out.splitlines()) == 1, out


async def test_cluster_only_log_options_say_so_locally() -> None:
    code, out = await fn("logs", "demo/greet", "--follow")
    assert code == 2 and "add --cluster, --context or --kubeconfig" in out, out
