"""The operator's loop at scale: one Controller tick over 100, 1,000 and 10,000 policies.

    uv run python bench/operator_loop.py                 # 100, 1,000, 10,000 policies, records the table
    uv run python bench/operator_loop.py --sizes 100 1000 --no-record

What runs, all real except the target:
- a real Prometheus (the Debian binary, via scaleplane.local.servers.prometheus) scraping a real exporter
  (prometheus_client) every 5 s. The exporter serves one `bench_queue_depth{queue="qNNNNN"}` series
  per queue (10,000 queues, the largest size) plus its process metrics.
- N ScalingPolicies, each with two metrics, the way teams write them: its own queue's depth
  (`sum(bench_queue_depth{queue="qNNNNN"})`, AverageValue 10) and one query shared by every policy
  (`sum(bench_queue_depth)`, a cluster-wide guard). So there are N + 1 DISTINCT queries for 2N metric
  slots: KEDA would send 2N requests per poll, the Controller sends N + 1.
- the real engine (`scaling.deciding.engine.decide`) for every policy.
- a no-op target in the same process (no HTTP): it answers read() at once and records scale().
  The figures therefore cover fetching + deciding, not the Kubernetes API's latency.

Each size runs in a fresh child process so its peak RSS is its own. The child does one warm-up tick
and three measured ticks; it reports the median and worst tick wall time, the loop process's CPU
seconds per tick (user + system, all threads), its peak RSS, the Prometheus requests per tick (counted
by PrometheusSource) and Prometheus' own CPU seconds per tick (from /proc, same 2 cores).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
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

from bench import recording

QUEUES = 10_000
SHARED_QUERY = "sum(bench_queue_depth)"
MEASURED_TICKS = 3


def queue_name(i: int) -> str:
    return f"q{i:05d}"


def _proc_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# -- the child: one size, one fresh process ----------------------------------------------------------


class NoopTarget:
    def __init__(self, current: int) -> None:
        self.current = current
        self.scales = 0

    async def read(self):  # type: ignore[no-untyped-def]
        from scaleplane.targets import protocol

        return protocol.ReplicaCount(self.current, self.current)

    async def scale(self, replicas: int) -> None:
        self.current = replicas
        self.scales += 1


def child(size: int, url: str, prometheus_pid: int, concurrency: int, batch: bool) -> dict[str, float]:
    from scaleplane.control import policies, ticking
    from scaleplane.metrics import prometheus
    from scaleplane.scaling import decisions, specs

    rng = random.Random(size)
    managed = []
    for i in range(size):
        spec = specs.parse_policy(
            {
                "targetRef": {"kind": "Deployment", "name": f"worker-{i}"},
                "minReplicas": 1,
                "maxReplicas": 20,
                "metrics": [
                    {
                        "name": "depth",
                        "query": f'sum(bench_queue_depth{{queue="{queue_name(i)}"}})',
                        "target": {"type": "AverageValue", "value": 10},
                    },
                    {"name": "cluster", "query": SHARED_QUERY, "target": {"type": "Value", "value": 1e9}},
                ],
            }
        )
        key = policies.PolicyKey(f"team-{i % 50}", f"p{i}")
        managed.append(
            policies.ManagedPolicy(key, spec, decisions.ScalingState(), NoopTarget(rng.randint(1, 8)))
        )

    source = prometheus.PrometheusSource(
        url, concurrency=concurrency, query_timeout=10, deadline=120, batch=batch
    )
    controller = ticking.Controller(source, target_concurrency=64)

    errors: collections.Counter[str] = collections.Counter()

    async def run() -> list[tuple[float, float, int, int, float, int]]:
        rows = []
        for tick in range(1 + MEASURED_TICKS):
            sent_before, prom_before = source.requests_sent, _proc_cpu_seconds(prometheus_pid)
            usage = resource.getrusage(resource.RUSAGE_SELF)
            cpu_before = usage.ru_utime + usage.ru_stime
            start = time.perf_counter()
            outcomes = await controller.tick(managed, now=time.time())
            wall = time.perf_counter() - start
            usage = resource.getrusage(resource.RUSAGE_SELF)
            cpu = usage.ru_utime + usage.ru_stime - cpu_before
            for policy, outcome in zip(managed, outcomes, strict=True):
                policy.state = outcome.state
            bad = [o for o in outcomes if o.error or not all(s.ok for s in o.observation.samples)]
            failed = len(bad)
            for o in bad if tick > 0 else ():
                why = o.error or next(s.error for s in o.observation.samples if not s.ok)
                errors[str(why)[:70]] += 1
            scaled = sum(1 for o in outcomes if o.scaled)
            prom_cpu = _proc_cpu_seconds(prometheus_pid) - prom_before
            if tick > 0:  # the first tick warms connections and the engine's imports
                rows.append((wall, cpu, source.requests_sent - sent_before, failed, prom_cpu, scaled))
            await asyncio.sleep(1.0)
        return rows

    load_before = os.getloadavg()[0]
    rows = asyncio.run(run())
    load_after = os.getloadavg()[0]
    source.close()
    walls = [r[0] for r in rows]
    return {
        "mode": "batched" if batch else "one per query",
        "policies": size,
        "distinct_queries": size + 1,
        "tick_median_s": statistics.median(walls),
        "tick_max_s": max(walls),
        "cpu_s_per_tick": statistics.mean(r[1] for r in rows),
        "requests_per_tick": statistics.mean(r[2] for r in rows),
        "failed_policies_per_tick": max(r[3] for r in rows),
        "scaled_per_tick": statistics.mean(r[5] for r in rows),
        "prometheus_cpu_s_per_tick": statistics.mean(r[4] for r in rows),
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "load_avg_1m": max(load_before, load_after),
        "errors": dict(errors.most_common(3)),
    }


# -- the parent: servers, children, table ------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1_000, 10_000])
    parser.add_argument("--concurrency", type=int, default=8, help="Prometheus requests in flight")
    parser.add_argument("--no-record", action="store_true", help="print only; leave docs/benchmarks.md")
    parser.add_argument(
        "--modes",
        nargs="+",
        choices=["single", "batched"],
        default=["single", "batched"],
        help="single: one request per distinct query; batched: PrometheusSource(batch=True)",
    )
    parser.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        size, url, pid, concurrency, mode = args.child
        print(json.dumps(child(int(size), url, int(pid), int(concurrency), mode == "batched")))
        return
    if max(args.sizes) > QUEUES:
        parser.error(f"--sizes: at most {QUEUES} policies (one queue each), was {max(args.sizes)}")

    from prometheus_client import CollectorRegistry, Gauge, start_http_server

    from scaleplane.local.servers import prometheus as local_prometheus

    registry = CollectorRegistry()
    depth = Gauge("bench_queue_depth", "jobs waiting, per queue", ["queue"], registry=registry)
    rng = random.Random(7)
    for i in range(QUEUES):
        depth.labels(queue_name(i)).set(rng.randint(0, 100))
    exporter, exporter_thread = start_http_server(0, addr="127.0.0.1", registry=registry)

    with tempfile.TemporaryDirectory(prefix="scaleplane-bench-") as workdir:
        server = local_prometheus.PrometheusServer(
            Path(workdir), scrape_interval="5s", evaluation_interval="5s"
        )
        server.start()
        try:
            server.add_target("bench", f"127.0.0.1:{exporter.server_port}")
            server.wait_for("count(bench_queue_depth)", lambda v: v == QUEUES, timeout=120)
            assert server.process is not None and server.process.pid is not None
            results = []
            for mode in args.modes:
                for size in args.sizes:
                    command = [
                        sys.executable,
                        __file__,
                        "--child",
                        str(size),
                        server.url,
                        str(server.process.pid),
                    ]
                    command += [str(args.concurrency), mode]
                    out = subprocess.run(command, check=True, capture_output=True, text=True)
                    results.append(json.loads(out.stdout.strip().splitlines()[-1]))
                    print(json.dumps(results[-1]), flush=True)
        finally:
            server.stop()
            exporter.shutdown()
            exporter.server_close()
            exporter_thread.join(timeout=5)

    table = render(results, args.concurrency)
    print(table)
    if not args.no_record:
        recording.record("operator-loop", "## Operator loop at scale", table)


def render(results: list[dict[str, float]], concurrency: int) -> str:
    head = (
        "| mode | policies | distinct queries | Prometheus requests / tick | KEDA requests / poll "
        "| tick median (s) | tick worst (s) | loop CPU s / tick | Prometheus CPU s / tick | peak RSS (MiB) "
        "| failed policies | host load (1 min) |\n"
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"
    )
    rows = "".join(
        f"| {r['mode']} | {r['policies']:,} | {r['distinct_queries']:,} | {r['requests_per_tick']:,.0f} "
        f"| {2 * r['policies']:,} | {r['tick_median_s']:.2f} | {r['tick_max_s']:.2f} "
        f"| {r['cpu_s_per_tick']:.2f} | {r['prometheus_cpu_s_per_tick']:.2f} | {r['peak_rss_mib']:.0f} "
        f"| {r['failed_policies_per_tick']:.0f} | {r['load_avg_1m']:.1f} |\n"
        for r in results
    )
    notes = f"""
What ran: a real Prometheus (scrape every 5 s) scraping a real exporter with 10,000
`bench_queue_depth{{queue=...}}` series; N policies with two metrics each (their own queue's depth, and one
cluster-wide query shared by all), so N + 1 distinct queries for 2N metric slots; the real engine; a no-op
in-process target (no Kubernetes API in the loop: the figures are fetch + decide). Requests go through
prometheus-api-client on a thread pool, {concurrency} in flight. "one per query": one Prometheus request per
distinct query. "batched": `PrometheusSource(batch=True)`, which sends the N per-queue queries as
`sum by (queue) (bench_queue_depth{{queue=~"q00000|q00001|..."}})` in chunks of 1,000 (exact: the tests
compare it with one-by-one answers on a real Prometheus), plus the shared query alone.
Each size runs in its own process (so peak RSS is that size's own); one warm-up tick, then {MEASURED_TICKS}
measured ticks. Loop CPU counts every thread of the loop's process; Prometheus runs on the same 2 cores.
The machine is shared with other work: "host load" is the 1-minute load average around the run (2 cores),
so when it is well above 2, wall times are inflated by waiting for a CPU; the CPU columns are not.
Target: 10,000 policies within a 15 s tick, under 512 MiB, one request per distinct query.
"""
    failures = "".join(
        f"- {r['mode']}, {r['policies']:,} policies: "
        + "; ".join(f'{n} x "{e.replace("`", "")}..."' for e, n in r["errors"].items())
        + "\n"
        for r in results
        if r["errors"]
    )
    if failures:
        failures = "\nWhy policies failed (over the measured ticks, most common first):\n\n" + failures
    if "no data" in failures:
        failures += (
            "\n`no data` here is not the loop's doing: with one request per query a 10,000-policy tick\n"
            "keeps Prometheus busy for about a minute, and a scrape of the 10,000-series exporter that\n"
            "misses its 5 s scrape timeout marks those series stale, so queries landing in that window\n"
            "find none (the probable cause; not checked scrape by scrape). The engine treats such data as\n"
            "missing: no scale-down.\n"
        )
    return head + rows + notes + failures


if __name__ == "__main__":
    main()
