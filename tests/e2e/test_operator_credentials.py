"""Credentials that change under a running operator: kmock refuses the old token (401) from one moment
on, as an API server does when a projected ServiceAccount token is rotated or an EKS token expires.
The operator must go on scaling, writing status and renewing its Lease, with a token file re-read and
with an exec plugin re-run. (Before: the Authorization header was fixed at start, and every request
after the rotation got 401.)
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support import operating
from tests.support.operating import DEPLOYMENT, POLICY
from tests.support.waiting import eventually

pytestmark = [pytest.mark.servers, pytest.mark.slow]
LEASES = "coordination.k8s.io/v1/leases"
# A client-go credential plugin: prints an ExecCredential with the token now in the file, counts runs.
PLUGIN = """
import json, pathlib, sys
token = pathlib.Path(sys.argv[1]).read_text().strip()
runs = pathlib.Path(sys.argv[2])
runs.write_text(str(int(runs.read_text() or 0) + 1) if runs.exists() else "1")
print(json.dumps({"apiVersion": "client.authentication.k8s.io/v1beta1", "kind": "ExecCredential",
                  "status": {"token": token}}))
"""


def _user(kind: str, tmp_path: Path, token_file: Path) -> dict[str, Any]:
    if kind == "tokenFile":
        return {"tokenFile": str(token_file)}
    plugin = tmp_path / "plugin.py"
    plugin.write_text(PLUGIN)
    return {
        "exec": {
            "apiVersion": "client.authentication.k8s.io/v1beta1",
            "command": sys.executable,
            "args": [str(plugin), str(token_file), str(tmp_path / "runs")],
        }
    }


@pytest.mark.parametrize("kind", ["tokenFile", "exec"])
async def test_a_rotated_token_does_not_stop_the_operator(
    prometheus: Any, exporter: Any, tmp_path: Path, kind: str
) -> None:
    exp, job = exporter
    ns, query = "team-cred", f'sum(load{{job="{job}"}})'
    exp.set(45)
    await asyncio.to_thread(prometheus.wait_for, query, lambda v: v == 45)
    token_file = tmp_path / "token"
    token_file.write_text("first-token\n")
    async with operating.cluster_api() as (cluster, url):
        cluster.tokens = {"first-token"}
        cluster.put_object(DEPLOYMENT, operating.deployment("worker", ns, replicas=1))
        spec = {
            "targetRef": {"kind": "Deployment", "name": "worker"},
            "maxReplicas": 8,
            "metrics": [{"name": "load", "query": query, "target": {"type": "AverageValue", "value": 10}}],
            "behavior": operating.fast_behavior(),
        }
        cluster.put_object(POLICY, operating.policy("worker", ns, spec))
        kubeconfig = operating.write_kubeconfig(
            tmp_path / "kubeconfig", url, _user(kind, tmp_path, token_file)
        )
        env = {"KUBECONFIG": str(kubeconfig)}

        def replicas() -> int:
            return int(cluster.read_object(DEPLOYMENT, ns, "worker")["spec"]["replicas"])

        def renewed() -> str:
            return str(
                (cluster.read_object(LEASES, ns, "scaleplane-operator") or {})
                .get("spec", {})
                .get("renewTime")
            )

        async with operating.running_operator(url, prometheus.url, namespace=ns, env=env):
            await eventually(lambda: replicas() == 5)
            # The rotation: a new token in the file, and the API server refuses the old one from now on.
            token_file.write_text("second-token\n")
            cluster.tokens = {"second-token"}
            refused_before = cluster.refused
            exp.set(15)
            await eventually(lambda: replicas() == 2, timeout=20)
            status = cluster.read_object(POLICY, ns, "worker")["status"]
            await eventually(
                lambda: (
                    (cluster.read_object(POLICY, ns, "worker")["status"].get("lastDecision") or {}).get(
                        "desired"
                    )
                    == 2
                )
            )
            before = renewed()
            await eventually(lambda: renewed() != before, timeout=10)  # the Lease is still renewed
        assert status
        assert cluster.refused > refused_before  # the old token really was refused, then replaced
        if kind == "exec":
            assert int((tmp_path / "runs").read_text()) >= 2  # the plugin was run again after the 401
