"""Two operators as separate processes (`scaleplane operator run`), each with its own token so kmock
can tell their requests apart. Across both, at most one actuates:

- the leader is paused (SIGSTOP) in the middle of a tick, while it waits for its target reads; the
  standby takes over and scales; when the old leader runs again (SIGCONT) it finds its renew deadline
  passed and does not finish its stale tick's /scale write (before: it did, undoing the new leader's);
- the standby's wall clock runs an hour ahead (libfaketime): it never takes a Lease that is being
  renewed (before: it judged `renewTime + lease` by its own clock and took over at once, and both
  replicas scaled the same policy).
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import endpoints, operating
from tests.support.operating import DEPLOYMENT, POLICY
from tests.support.waiting import eventually

pytestmark = [pytest.mark.servers, pytest.mark.slow]
SCALEPLANE = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "scaleplane"
LEASES = "coordination.k8s.io/v1/leases"
NS = "team-fence"


@contextlib.asynccontextmanager
async def operator_process(
    name: str, url: str, prometheus_url: str, tmp_path: Path, extra: dict[str, str] | None = None
) -> AsyncIterator[asyncio.subprocess.Process]:
    kubeconfig = operating.write_kubeconfig(tmp_path / name / "kubeconfig", url, {"token": f"token-{name}"})
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("SCALEPLANE_")},
        "KUBECONFIG": str(kubeconfig),
        "HOME": str(tmp_path / name),
        "SCALEPLANE_PROMETHEUS_URL": prometheus_url,
        "SCALEPLANE_TICK_SECONDS": "1",
        "SCALEPLANE_METRICS_ADDR": f"127.0.0.1:{endpoints.free_port()}",
        "SCALEPLANE_LEASE_NAMESPACE": NS,
        "SCALEPLANE_LEASE_SECONDS": "3",
        "SCALEPLANE_IDENTITY": name,
        **(extra or {}),
    }
    log = (tmp_path / name / "operator.log").open("wb")  # read it when a test fails
    proc = await asyncio.create_subprocess_exec(
        str(SCALEPLANE),
        *("operator", "run", "--all-namespaces", "--standalone", "--liveness=", "--log-format=plain"),
        env=env,
        stdout=log,
        stderr=log,
        start_new_session=True,
    )
    try:
        yield proc
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGCONT)
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            await asyncio.wait_for(proc.wait(), timeout=20)
        except TimeoutError:
            os.killpg(proc.pid, signal.SIGKILL)
            await proc.wait()
        log.close()


def _spec(query: str) -> dict[str, Any]:
    return {
        "targetRef": {"kind": "Deployment", "name": "worker"},
        "minReplicas": 1,
        "maxReplicas": 8,
        "cooldownSeconds": 0,
        "metrics": [{"name": "load", "query": query, "target": {"type": "AverageValue", "value": 10}}],
        "behavior": operating.fast_behavior(),
    }


def _scale_writes(cluster: Any, name: str, since: int = 0) -> list[Any]:
    return [
        r
        for r in list(cluster)[since:]
        if str(r.method.value).upper() == "PATCH"
        and str(r.url.path).endswith("/worker/scale")
        and r.headers.get("Authorization") == f"Bearer token-{name}"
    ]


def _holder(cluster: Any) -> str | None:
    lease = cluster.read_object(LEASES, NS, "scaleplane-operator") or {}
    return (lease.get("spec") or {}).get("holderIdentity") or None


def _replicas(cluster: Any) -> int:
    return int(cluster.read_object(DEPLOYMENT, NS, "worker")["spec"]["replicas"])


async def test_a_leader_paused_mid_tick_does_not_write_when_it_wakes(
    prometheus: Any, exporter: Any, tmp_path: Path
) -> None:
    exp, job = exporter
    query = f'sum(load{{job="{job}"}})'
    exp.set(45)
    await asyncio.to_thread(prometheus.wait_for, query, lambda v: v == 45)
    async with operating.cluster_api() as (cluster, url):
        cluster.put_object(DEPLOYMENT, operating.deployment("worker", NS, replicas=1))
        cluster.put_object(POLICY, operating.policy("worker", NS, _spec(query)))
        async with (
            operator_process("a", url, prometheus.url, tmp_path) as a,
            operator_process("b", url, prometheus.url, tmp_path) as b,
        ):
            await eventually(lambda: _replicas(cluster) == 5, timeout=40)
            leader = await eventually(lambda: _holder(cluster), timeout=10)
            paused, standby = (a, "b") if leader == "a" else (b, "a")
            # Stall every target read for a while, then ask for 3: the leader's next tick fetches 25,
            # then waits on its read. Pause it right there.
            cluster.inject("GET", f"/namespaces/{NS}/deployments", delay=2.5, times=20)
            exp.set(25)
            await asyncio.to_thread(prometheus.wait_for, query, lambda v: v == 25)
            seen = len(list(cluster))
            await eventually(
                lambda: [
                    r
                    for r in list(cluster)[seen:]
                    if str(r.url.path).endswith(f"/namespaces/{NS}/deployments")
                    and r.headers.get("Authorization") == f"Bearer token-{leader}"
                ],
                timeout=10,
                every=0.02,
            )
            os.killpg(paused.pid, signal.SIGSTOP)
            cluster.faults.clear()  # the read it waits on is answered (into its socket) 2.5 s later
            exp.set(65)  # the new leader will ask for 7
            await eventually(lambda: _holder(cluster) == standby, timeout=15)
            await eventually(lambda: _replicas(cluster) == 7, timeout=15)
            woke = len(list(cluster))
            os.killpg(paused.pid, signal.SIGCONT)
            await asyncio.sleep(4)  # its stale tick ends, and several ticks more
            assert _scale_writes(cluster, str(leader), since=woke) == []
            assert _replicas(cluster) == 7
            assert _holder(cluster) == standby


async def test_a_standby_whose_clock_runs_an_hour_ahead_never_takes_a_renewed_lease(
    prometheus: Any, exporter: Any, tmp_path: Path
) -> None:
    libs = glob.glob("/usr/lib/*/faketime/libfaketime.so.1")
    assert libs, "libfaketime is missing: scripts/bootstrap.sh installs the Debian package faketime"
    exp, job = exporter
    query = f'sum(load{{job="{job}"}})'
    exp.set(45)
    await asyncio.to_thread(prometheus.wait_for, query, lambda v: v == 45)
    # A longer lease than the other test's: on a busy machine a 3 s lease can lapse for real.
    slow = {"SCALEPLANE_LEASE_SECONDS": "6"}
    skewed = {**slow, "LD_PRELOAD": libs[0], "FAKETIME": "+1h", "FAKETIME_DONT_FAKE_MONOTONIC": "1"}
    async with operating.cluster_api() as (cluster, url):
        cluster.put_object(DEPLOYMENT, operating.deployment("worker", NS, replicas=1))
        cluster.put_object(POLICY, operating.policy("worker", NS, _spec(query)))
        async with operator_process("a", url, prometheus.url, tmp_path, slow):
            await eventually(lambda: _holder(cluster) == "a", timeout=40)
            await eventually(lambda: _replicas(cluster) == 5, timeout=20)
            async with operator_process("b", url, prometheus.url, tmp_path, skewed):
                # b is up once it reads the Lease; from then on, for many lease periods, a holds it.
                await eventually(
                    lambda: any(r.headers.get("Authorization") == "Bearer token-b" for r in cluster),
                    timeout=40,
                )
                start = len(list(cluster))
                for load, replicas in ((25, 3), (65, 7)):
                    exp.set(load)
                    await eventually(lambda r=replicas: _replicas(cluster) == r, timeout=20)
                await asyncio.sleep(3)
                assert _holder(cluster) == "a"
                assert _scale_writes(cluster, "b", since=start) == []
                assert len(_scale_writes(cluster, "a", since=start)) == 2  # one write per change
