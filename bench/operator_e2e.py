"""The operator end to end at 10,000 policies, with an API server (kmock) in the loop.

    uv run python bench/operator_e2e.py                    # 10,000 policies, records docs/benchmarks.md
    uv run python bench/operator_e2e.py --sizes 1000 --ticks 3 --no-record

What runs, in three processes on 127.0.0.1:
- Prometheus (the Debian binary) scraping a real exporter with one `bench_queue_depth{queue=...}` series
  per policy (static values); this parent process runs both;
- the API server: kmock with the test suite's emulator (tests/support/kmock_cluster.py), seeded with
  one Deployment and one ScalingPolicy per policy in 50 namespaces, in its own process;
- the operator, in its own process: the production pieces a running operator builds
  (`operator.wiring.runtime`): the registry fed with every policy's body (as kopf's watch would), the
  Controller (Prometheus batched, the real engine), the Recorder (status PATCH per policy, an Event per
  scale), the Lease renewed in the background, all through the one `kube.clients.KubeClient`.

Between ticks, "someone else" (a second client, not counted) sets 10 % of the Deployments to a wrong
count, so that tick reads them (one LIST per namespace), scales them back (/scale PATCH), posts an
Event each and writes every status. Not included: kopf itself (its watches and handlers) and hooks.

Per tick: the operator's API requests (counted by its client, Lease renewals included), the tick's
wall time (fetch + read + decide + scale + record), the operator's CPU, the API server's and
Prometheus' CPU (from /proc); the operator's peak RSS at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

NAMESPACES = 50
SCALING_SHARE = 0.10


def _proc_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def names(i: int) -> tuple[str, str]:
    return f"team-{i % NAMESPACES:02d}", f"w{i:05d}"


def depth(i: int) -> int:
    return 10 * (1 + i % 7)  # asks for 1..7 replicas at 10 per replica


# -- the API server process ---------------------------------------------------------------------------


def serve_api(size: int) -> None:
    from tests.support import operating

    async def run() -> None:
        async with operating.cluster_api() as (cluster, url):
            for i in range(size):
                ns, name = names(i)
                cluster.put_object(operating.DEPLOYMENT, operating.deployment(name, ns, replicas=1 + i % 7))
                cluster.put_object(operating.POLICY, operating.policy(name, ns, policy_spec(i)))
            print(url, flush=True)
            while True:
                # kmock keeps every request for tests to inspect, and looks through that log while it
                # answers: a log of 100,000 requests makes each answer slow. The bench needs no log.
                cluster._requests.clear()
                await asyncio.sleep(0.2)

    asyncio.run(run())


def policy_spec(i: int) -> dict[str, object]:
    fast = {"stabilizationWindowSeconds": 0, "policies": [{"type": "Pods", "value": 100, "periodSeconds": 1}]}
    return {
        "targetRef": {"kind": "Deployment", "name": names(i)[1]},
        "minReplicas": 1,
        "maxReplicas": 20,
        "cooldownSeconds": 0,
        "metrics": [
            {
                "name": "depth",
                "query": f'sum(bench_queue_depth{{queue="{names(i)[1]}"}})',
                "target": {"type": "AverageValue", "value": 10},
            }
        ],
        "behavior": {"scaleUp": fast, "scaleDown": fast},
    }


# -- the operator process -----------------------------------------------------------------------------


def operator_child(size: int, api_url: str, prometheus_url: str, ticks: int) -> dict[str, object]:
    from lightkube.config import kubeconfig

    from scaleplane.control import ticking
    from scaleplane.kube import clients, credentials
    from scaleplane.metrics import prometheus
    from scaleplane.operator.loop import leasing, looping
    from scaleplane.operator.records import hooking, instruments, recording, registering
    from scaleplane.targets import registry as target_registry

    config = kubeconfig.KubeConfig.from_server(api_url).get()
    assert config is not None
    found = credentials.Credentials(config, "the bench's API server")
    rng = random.Random(size)

    async def run() -> dict[str, object]:
        api = clients.KubeClient(found, connections=32)
        outside = clients.KubeClient(found, connections=16)
        targets = target_registry.for_cluster(api, fresh_for=2.0)
        registry = registering.Registry(make_target=targets.resolve)
        for i in range(size):
            ns, name = names(i)
            body = {
                "apiVersion": "scaleplane.io/v1alpha1",
                "kind": "ScalingPolicy",
                "metadata": {"name": name, "namespace": ns, "generation": 1, "uid": str(i)},
                "spec": policy_spec(i),
            }
            registry.observe(body)
        meters = instruments.Instruments()
        hooks = hooking.HookDispatcher([], meters)
        source = prometheus.PrometheusSource(prometheus_url, batch=True, query_timeout=30, deadline=60)
        controller = ticking.Controller(source, target_concurrency=64, target_timeout=30)
        recorder = recording.Recorder(api, registry, meters, hooks, concurrency=32)
        lease = leasing.LeaseKeeper(
            api, namespace="scaleplane-system", name="bench", identity="bench", timing=leasing.Timing()
        )
        await lease.try_hold()
        lease.start()
        loop = looping.OperatorLoop(
            tick_seconds=15,
            registry=registry,
            controller=controller,
            recorder=recorder,
            meters=meters,
            lease=lease,
        )
        rows = []
        errors: dict[str, int] = {}
        try:
            for tick in range(1 + ticks):
                await perturb(outside, size, rng)
                await asyncio.sleep(2.5)  # past the listings' freshness (2 s), as a 15 s tick is
                sent = api.requests
                usage = resource.getrusage(resource.RUSAGE_SELF)
                cpu0 = usage.ru_utime + usage.ru_stime
                start = time.perf_counter()
                outcomes = await loop.tick()
                wall = time.perf_counter() - start
                usage = resource.getrusage(resource.RUSAGE_SELF)
                cpu = usage.ru_utime + usage.ru_stime - cpu0
                failed = sum(1 for o in outcomes if o.error)
                for o in outcomes:
                    if o.error and tick > 0:
                        errors[o.error[:90]] = errors.get(o.error[:90], 0) + 1
                scaled = sum(1 for o in outcomes if o.scaled)
                if tick > 0:  # the first tick reads every state fresh and warms connections
                    rows.append(
                        {
                            "wall": wall,
                            "cpu": cpu,
                            "requests": api.requests - sent,
                            "scaled": scaled,
                            "failed": failed,
                        }
                    )
        finally:
            await lease.stop()
            await api.close()
            await outside.close()
            source.close()
        top = dict(sorted(errors.items(), key=lambda kv: -kv[1])[:3])
        return {
            "rows": rows,
            "errors": top,
            "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        }

    return asyncio.run(run())


async def perturb(outside: object, size: int, rng: random.Random) -> None:
    """Set 10 % of the Deployments to a count their policy will not keep (as a person or a rollout would)."""
    from scaleplane.kube import clients

    assert isinstance(outside, clients.KubeClient)
    chosen = rng.sample(range(size), max(1, int(size * SCALING_SHARE)))
    slots = asyncio.Semaphore(16)

    async def one(i: int) -> None:
        ns, name = names(i)
        wanted = depth(i) // 10
        async with slots:
            await outside.patch(
                f"/apis/apps/v1/namespaces/{ns}/deployments/{name}/scale",
                {"spec": {"replicas": wanted + 5}},
            )

    await asyncio.gather(*(one(i) for i in chosen))


# -- the parent: servers, children, table --------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000])
    parser.add_argument("--ticks", type=int, default=8, help="measured ticks (after one warm-up)")
    parser.add_argument("--no-record", action="store_true")
    parser.add_argument("--serve-api", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_api:
        serve_api(args.serve_api)
        return
    if args.child:
        size, api_url, prometheus_url, ticks = args.child
        print(json.dumps(operator_child(int(size), api_url, prometheus_url, int(ticks))))
        return

    from prometheus_client import CollectorRegistry, Gauge, start_http_server

    from scaleplane.local.servers import prometheus as local_prometheus

    largest = max(args.sizes)
    registry = CollectorRegistry()
    gauge = Gauge("bench_queue_depth", "jobs waiting, per queue", ["queue"], registry=registry)
    for i in range(largest):
        gauge.labels(names(i)[1]).set(depth(i))
    exporter, _ = start_http_server(0, addr="127.0.0.1", registry=registry)
    results = []
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="scaleplane-bench-") as workdir:
        server = local_prometheus.PrometheusServer(
            Path(workdir), scrape_interval="5s", evaluation_interval="5s"
        )
        server.start()
        try:
            server.add_target("bench", f"127.0.0.1:{exporter.server_port}")
            server.wait_for("count(bench_queue_depth)", lambda v: v == largest, timeout=120)
            prometheus_pid = server.process.pid  # type: ignore[union-attr]
            for size in args.sizes:
                print(f"{size:,} policies: seeding the API server...", file=sys.stderr, flush=True)
                api_proc = subprocess.Popen(
                    [sys.executable, __file__, "--serve-api", str(size)],
                    stdout=subprocess.PIPE,
                    text=True,
                    start_new_session=True,
                )
                try:
                    assert api_proc.stdout is not None
                    api_url = api_proc.stdout.readline().strip()
                    print(f"{size:,} policies: {args.ticks} ticks...", file=sys.stderr, flush=True)
                    api_cpu0, prom_cpu0 = _proc_cpu_seconds(api_proc.pid), _proc_cpu_seconds(prometheus_pid)
                    command = [
                        sys.executable,
                        __file__,
                        "--child",
                        str(size),
                        api_url,
                        server.url,
                        str(args.ticks),
                    ]
                    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
                    result = json.loads(out.strip().splitlines()[-1])
                    result["api_cpu"] = _proc_cpu_seconds(api_proc.pid) - api_cpu0
                    result["prom_cpu"] = _proc_cpu_seconds(prometheus_pid) - prom_cpu0
                finally:
                    os.killpg(api_proc.pid, 15)
                    api_proc.wait(timeout=20)
                results.append((size, result))
                if result.get("errors"):
                    print(f"errors: {result['errors']}", file=sys.stderr)
        finally:
            server.stop()
            exporter.shutdown()
    print(table(results, args.ticks, load))
    if not args.no_record:
        from bench import recording

        recording.record("operator-e2e", "## Operator end to end", table(results, args.ticks, load))


def table(results: list[tuple[int, dict[str, object]]], ticks: int, load: float) -> str:
    lines = [
        "| policies | scaled per tick | API requests per tick | tick p50 (s) | tick p95 (s) "
        "| operator CPU per tick (s) | API server CPU per tick (s) | Prometheus CPU per tick (s) "
        "| operator peak RSS (MiB) | failed policies |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for size, r in results:
        rows = r["rows"]
        assert isinstance(rows, list)
        walls = sorted(row["wall"] for row in rows)
        p95 = walls[min(len(walls) - 1, round(0.95 * (len(walls) - 1)))]
        whole = 1 + ticks  # the servers' CPU covers the warm-up tick and the perturbations too
        lines.append(
            f"| {size:,} | {statistics.mean(row['scaled'] for row in rows):,.0f} "
            f"| {statistics.mean(row['requests'] for row in rows):,.0f} | {statistics.median(walls):.1f} "
            f"| {p95:.1f} | {statistics.mean(row['cpu'] for row in rows):.1f} "
            f"| {float(r['api_cpu']) / whole:.1f} | {float(r['prom_cpu']) / whole:.2f} "  # type: ignore[arg-type]
            f"| {float(r['peak_rss_mib']):.0f} | {max(row['failed'] for row in rows)} |"  # type: ignore[arg-type]
        )
    return "\n".join(lines) + (
        f"\n\n{ticks} measured ticks after one warm-up; p95 of {ticks} ticks is the second-worst or the "
        "worst. Real: Prometheus, the exporter, HTTP to an API server, the operator's client, targets, "
        "engine, recorder and Lease. Emulated: the API server is kmock (Python, one process): its CPU is "
        "listed apart, and it is the slowest part here, far slower than a real kube-apiserver. Not "
        "included: kopf's watches, hooks. All three processes share the machine's "
        f"{os.cpu_count()} cores, and so did other engineers' work (load average {load:.1f} at the start)."
    )


if __name__ == "__main__":
    main()
