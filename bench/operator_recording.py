"""The operator's recording at scale: what a tick costs after deciding, for 100, 1,000 and 10,000 policies.

    uv run python bench/operator_recording.py                  # records the table in docs/benchmarks.md
    uv run python bench/operator_recording.py --sizes 100 1000 --no-record

Per policy per tick the operator builds the status, sets its gauges and counters, writes a JSON log
line (INFO when something changed, else DEBUG), PATCHes `/status` over HTTP (aiohttp, at most 32 in
flight), POSTs an Event if it scaled, and offers the decision to the hooks queue (none configured
here). This bench runs exactly that (`operator.records.recording.Recorder`) against a no-op API server: a
separate process on 127.0.0.1 (aiohttp) that answers every request with `{}`, so the figures are the
operator's side of the cost, not an API server's. Statuses carry a realistic engine state (20
stabilization entries, 4 scale events; no metric history: that is kept only for policies with a
forecast, whose statuses are about 3 KiB larger). The log goes to /dev/null through the same JSON
formatter as `--log-format json`.

bench/operator_loop.py measures the tick before this (fetch from Prometheus + decide); a tick is the sum.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SERVER = """
import sys
from aiohttp import web
async def ok(request):
    await request.read()
    return web.json_response({})
app = web.Application()
app.router.add_route("*", "/{tail:.*}", ok)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
"""


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _run(size: int, url: str, scaled_share: float = 1.0) -> dict[str, float]:
    from lightkube.config import kubeconfig

    from scaleplane.control import policies
    from scaleplane.kube import clients, credentials
    from scaleplane.operator.records import hooking, instruments, recording, registering
    from scaleplane.scaling import decisions

    class Target:
        async def read(self) -> object:
            raise NotImplementedError

        async def scale(self, replicas: int) -> None:
            raise NotImplementedError

    registry = registering.Registry(make_target=lambda ns, ref: Target())  # type: ignore[arg-type,return-value]
    now = time.time()
    state = decisions.ScalingState(
        recommendations=tuple((now - i * 15, 3 + i % 4) for i in range(20)),
        scale_events=tuple((now - i * 60, 3, 4) for i in range(4)),
    )
    outcomes = []
    for i in range(size):
        body = {
            "metadata": {"name": f"p{i:05d}", "namespace": f"team-{i % 50}", "generation": 1, "uid": str(i)},
            "spec": {
                "targetRef": {"name": f"w{i:05d}"},
                "maxReplicas": 20,
                "metrics": [{"name": "queue", "query": f"sum(q{{q='{i}'}})", "target": {"value": 10}}],
            },
        }
        registry.observe(body)
        key = policies.PolicyKey(f"team-{i % 50}", f"p{i:05d}")
        decision = decisions.Decision(
            at=now,
            current=3,
            desired=4,
            raw=4,
            reason="scale_up",
            message="scale from 3 to 4 replicas: queue is 35 against a target of 10 per replica",
            driving_metric="queue",
            recommendations=(decisions.MetricRecommendation("queue", 35.0, 10.0, "AverageValue", 4),),
        )
        observation = decisions.Observation(now, 3, 3, (decisions.MetricSample("queue", 35.0),))
        scaled = i < size * scaled_share  # a scaled policy also posts an Event
        outcomes.append(policies.TickOutcome(key, decision, state, None, scaled, observation))

    config = kubeconfig.KubeConfig.from_server(url).get()
    assert config is not None
    api = clients.KubeClient(credentials.Credentials(config, "the bench's emulator"), connections=32)
    meters = instruments.Instruments()
    hooks = hooking.HookDispatcher([], meters)
    # heartbeat=0: every round writes every status (bench/operator_status_load.py measures the heartbeat).
    recorder = recording.Recorder(api, registry, meters, hooks, concurrency=32, heartbeat=0)
    try:
        await recorder.record(outcomes[: min(size, 50)], now)  # warm-up: connections, imports
        walls = []
        for _ in range(3):
            cpu0 = time.process_time()
            start = time.perf_counter()
            await recorder.record(outcomes, now)
            walls.append(time.perf_counter() - start)
        cpu = time.process_time() - cpu0
    finally:
        await api.close()
    status = json.dumps({"status": registry.entries[outcomes[0].key].status}).encode()
    return {
        "wall_median": sorted(walls)[1],
        "wall_worst": max(walls),
        "cpu_last": cpu,
        "status_bytes": len(status),
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def child(size: int, url: str, scaled_share: float) -> None:
    from kopf._core.actions import loggers

    handler = logging.StreamHandler(open(os.devnull, "w"))  # noqa: SIM115
    handler.setFormatter(loggers.ObjectJsonFormatter())
    logging.basicConfig(level=logging.INFO, handlers=[handler])
    print(json.dumps(asyncio.run(_run(size, url, scaled_share))))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 10000])
    parser.add_argument("--no-record", action="store_true")
    parser.add_argument("--child", type=int)
    parser.add_argument("--url")
    parser.add_argument(
        "--scaled", type=float, nargs="+", default=[1.0, 0.1], help="shares of policies that scale"
    )
    args = parser.parse_args()
    if args.child:
        child(args.child, args.url, args.scaled[0])
        return
    load = os.getloadavg()[0]
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-c", SERVER, str(port)], start_new_session=True)
    rows = []
    try:
        time.sleep(1.5)
        for share in args.scaled:
            for size in args.sizes:
                command = [
                    sys.executable,
                    __file__,
                    "--child",
                    str(size),
                    "--url",
                    f"http://127.0.0.1:{port}",
                ]
                command += ["--scaled", str(share)]
                out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
                result = json.loads(out.strip().splitlines()[-1])
                rows.append((size, share, result))
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=10)
    table = [
        "| policies | scaling this tick | record wall, median (s) | worst (s) | CPU of the last record (s) "
        "| per policy (ms) | status size (bytes) | peak RSS (MiB) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for size, share, r in rows:
        table.append(
            f"| {size:,} | {share:.0%} | {r['wall_median']:.2f} | {r['wall_worst']:.2f} "
            f"| {r['cpu_last']:.2f} | "
            f"{1000 * r['wall_median'] / size:.2f} | {r['status_bytes']:,} | {r['peak_rss_mib']:.0f} |"
        )
    body = "\n".join(table) + (
        "\n\nWhat runs: `operator.records.recording.Recorder.record` over N tick outcomes (status built, "
        "gauges and counters set, a JSON log line for each change, one HTTP PATCH of `/status` each, plus an "
        "Event POST for each policy that scaled; at most 32 in flight) against a "
        "no-op API server in another process on 127.0.0.1. Not included: the API server's own latency, the "
        "fetch and the decisions (bench/operator_loop.py). Each size runs in its own child process; three "
        "measured rounds after a 50-policy warm-up. "
        f"Load average when this run started: {load:.1f} (other work shares the machine; wall times "
        "above the CPU column are time spent waiting for a core)."
    )
    print(body)
    if not args.no_record:
        from bench import recording

        recording.record("operator-recording", "## Operator: recording a tick (status, metrics, logs)", body)


if __name__ == "__main__":
    main()
