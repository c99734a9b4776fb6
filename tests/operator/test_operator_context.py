"""`scaleplane operator run --kubeconfig FILE --context NAME` as a platform engineer runs it from a
laptop or a CI job: a separate process, against one of several clusters.

The kubeconfig holds two contexts; its current one (`staging`) points at a port nothing listens on,
and kmock accepts only the `kmock` context's token, so an operator that scales the Deployment there
proves that both kopf (its login handler: the watch that finds the policy) and the operator's own
client (the /scale write, the status) used the context the option named, and nothing else.
$KUBECONFIG names a file that does not exist and there is no service account: the options are the
only way to the cluster.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest

from tests.support import endpoints, operating
from tests.support.operating import DEPLOYMENT, POLICY
from tests.support.waiting import eventually

pytestmark = [pytest.mark.servers]
SCALEPLANE = Path(sys.executable).parent / "scaleplane"
NAMESPACE = "team-ctx"


def environment(tmp_path: Path, kubeconfig: str) -> dict[str, str]:
    """The subprocess's environment (never this process's: nothing leaks into later tests)."""
    inherited = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SCALEPLANE_", "POD_", "KUBERNETES_")) and k != "KUBECONFIG"
    }
    return {
        **inherited,
        "KUBECONFIG": kubeconfig,
        "HOME": str(tmp_path),  # no ~/.kube/config of the machine's user either
        # Nothing listens here: no metric, but the policy's minReplicas still raises the count.
        "SCALEPLANE_PROMETHEUS_URL": f"http://127.0.0.1:{endpoints.free_port()}",
        "SCALEPLANE_TICK_SECONDS": "1",
        "SCALEPLANE_METRICS_ADDR": f"127.0.0.1:{endpoints.free_port()}",
        "SCALEPLANE_LEASE_NAMESPACE": NAMESPACE,
    }


@pytest.mark.parametrize("choice", ["--kubeconfig and --context", "--context of $KUBECONFIG"])
async def test_the_operator_runs_against_the_context_it_is_given(tmp_path: Path, choice: str) -> None:
    async with operating.cluster_api() as (cluster, url):
        dead = f"http://127.0.0.1:{endpoints.free_port()}"
        config = operating.write_kubeconfig(
            tmp_path / "clusters.yaml",
            url,
            {"token": "ci-token"},
            others={"staging": dead},
            current="staging",
        )
        cluster.tokens = {"ci-token"}  # the staging user's token is refused, should it ever come here
        cluster.put_object(DEPLOYMENT, operating.deployment("worker", NAMESPACE, replicas=1))
        spec = {
            "targetRef": {"name": "worker"},
            "minReplicas": 3,
            "maxReplicas": 5,
            "metrics": [{"name": "up", "query": "vector(1)", "target": {"value": 10}}],
        }
        cluster.put_object(POLICY, operating.policy("worker", NAMESPACE, spec))
        if choice == "--kubeconfig and --context":
            options, env = ["--kubeconfig", str(config)], environment(tmp_path, str(tmp_path / "nothing"))
        else:
            options, env = [], environment(tmp_path, str(config))
        # --all-namespaces: kmock cannot list namespaces, which kopf does for --namespace.
        proc = await asyncio.create_subprocess_exec(
            str(SCALEPLANE),
            *("operator", "run", "--all-namespaces", "--standalone", "--liveness=", "--log-format=plain"),
            *options,
            *("--context", "kmock"),
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            await eventually(
                lambda: cluster.read_object(DEPLOYMENT, NAMESPACE, "worker")["spec"]["replicas"] == 3,
                timeout=40,
            )
            await eventually(
                lambda: (
                    ((cluster.read_object(POLICY, NAMESPACE, "worker") or {}).get("status") or {}).get(
                        "currentReplicas"
                    )
                    == 3
                ),
                timeout=20,
            )
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            output, _ = await asyncio.wait_for(proc.communicate(), timeout=20)
    text = output.decode()
    assert proc.returncode == 0, text
    assert f"reaching the API server {url} with the kubeconfig {config} (context kmock)" in text, text
    assert cluster.refused == 0, "a request came with another context's token"
    assert dead.rpartition(":")[2] not in text, "something tried the current context's server"
