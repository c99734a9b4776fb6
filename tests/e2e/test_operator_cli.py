"""`scaleplane operator run` as a user runs it: a separate process, the current kubeconfig, JSON logs."""

from __future__ import annotations

import asyncio
import json
import os
import signal
from pathlib import Path

import pytest
import yaml

from tests.support import endpoints, operating
from tests.support.operating import DEPLOYMENT, POLICY
from tests.support.waiting import eventually

pytestmark = [pytest.mark.servers]
SCALEPLANE = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "scaleplane"


def _kubeconfig(path: Path, server: str) -> Path:
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "kmock", "cluster": {"server": server}}],
        "users": [{"name": "tester", "user": {"token": "not-checked"}}],
        "contexts": [{"name": "kmock", "context": {"cluster": "kmock", "user": "tester"}}],
        "current-context": "kmock",
    }
    path.write_text(yaml.safe_dump(config))
    return path


async def test_operator_run_uses_the_kubeconfig_and_logs_json(tmp_path: Path) -> None:
    async with operating.cluster_api() as (cluster, url):
        cluster.put_object(DEPLOYMENT, operating.deployment("worker", "team-cli", replicas=2))
        spec = {
            "targetRef": {"name": "worker"},
            "maxReplicas": 4,
            "metrics": [{"name": "up", "query": "vector(1)", "target": {"value": 10}}],
        }
        cluster.put_object(POLICY, operating.policy("worker", "team-cli", spec))
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("SCALEPLANE_")},
            "KUBECONFIG": str(_kubeconfig(tmp_path / "kubeconfig", url)),
            "HOME": str(tmp_path),
            # Nothing listens here: the policy holds its count, which the status then says.
            "SCALEPLANE_PROMETHEUS_URL": f"http://127.0.0.1:{endpoints.free_port()}",
            "SCALEPLANE_TICK_SECONDS": "1",
            "SCALEPLANE_METRICS_ADDR": f"127.0.0.1:{endpoints.free_port()}",
        }
        # --all-namespaces: kmock cannot list namespaces, which kopf does for --namespace.
        proc = await asyncio.create_subprocess_exec(
            str(SCALEPLANE),
            "operator",
            "run",
            "--all-namespaces",
            "--standalone",
            "--liveness=",
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            await eventually(
                lambda: ((cluster.read_object(POLICY, "team-cli", "worker") or {}).get("status") or {}).get(
                    "lastDecision"
                ),
                timeout=30,
            )
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            output, _ = await asyncio.wait_for(proc.communicate(), timeout=20)
    assert proc.returncode == 0
    records = [json.loads(line) for line in output.decode().splitlines() if line.startswith("{")]
    decisions = [r["decision"] for r in records if "decision" in r]
    assert decisions and decisions[0]["policy"] == "team-cli/worker"
    assert decisions[0]["reason"] == "metrics_unavailable" and decisions[0]["desired"] == 2
    assert all("severity" in r and "timestamp" in r for r in records)
    assert cluster.read_object(DEPLOYMENT, "team-cli", "worker")["spec"]["replicas"] == 2
