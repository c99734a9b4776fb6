"""API requests the operator's recording makes per tick: every status every tick, against the heartbeat.

    uv run python bench/operator_status_load.py                  # records the table in docs/benchmarks.md
    uv run python bench/operator_status_load.py --sizes 1000 --no-record

For N policies, six ticks 15 s apart (on a simulated clock) go through `operator.records.recording.Recorder`
against an API server in another process on 127.0.0.1 that answers every request (Events with a name,
so repeats can update them) and counts them. Per tick 10 % of the policies scale (a different tenth
each tick), 1 % fail with the same error every tick, the rest hold steady. Side by side in one run:
heartbeat 0 (every status written every tick, what the operator did before) and the default 180 s
heartbeat (written on a change a user reads, else once per heartbeat; repeated Events counted and
their count written once per heartbeat). The first tick writes everything in both modes and is left
out of the averages. The machine is shared with other work: compare the columns of one run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SERVER = """
import itertools, sys
from aiohttp import web
counts = {}
names = itertools.count()
async def handle(request):
    await request.read()
    if request.path == "/count":
        return web.json_response(counts)
    key = request.method + (" events" if "/events" in request.path else " status")
    counts[key] = counts.get(key, 0) + 1
    return web.json_response({"metadata": {"name": f"e{next(names)}"}})
app = web.Application()
app.router.add_route("*", "/{tail:.*}", handle)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
"""
TICKS = 6


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _counts(api: Any) -> dict[str, int]:
    counts: dict[str, int] = await api.get("/count")
    return counts


async def _run(size: int, url: str, heartbeat: float) -> dict[str, float]:
    from lightkube.config import kubeconfig

    from scaleplane.control import policies
    from scaleplane.kube import clients, credentials
    from scaleplane.operator.records import hooking, instruments, recording, registering
    from scaleplane.scaling import decisions

    registry = registering.Registry(make_target=lambda ns, ref: None)  # type: ignore[arg-type,return-value]
    for i in range(size):
        registry.observe(
            {
                "metadata": {
                    "name": f"p{i:05d}",
                    "namespace": f"team-{i % 50}",
                    "generation": 1,
                    "uid": str(i),
                },
                "spec": {
                    "targetRef": {"name": f"w{i:05d}"},
                    "maxReplicas": 50,
                    "metrics": [{"name": "queue", "query": f"sum(q{{q='{i}'}})", "target": {"value": 10}}],
                },
            }
        )
    # The operator's one client (kube.clients, which replaced operator.kubeapi), pointed at the counter.
    config = kubeconfig.KubeConfig.from_server(url).get()
    assert config is not None
    api = clients.KubeClient(credentials.Credentials(config, "the bench's counting server"), connections=32)
    meters = instruments.Instruments()
    recorder = recording.Recorder(
        api, registry, meters, hooking.HookDispatcher([], meters), heartbeat=heartbeat
    )
    keys = [policies.PolicyKey(f"team-{i % 50}", f"p{i:05d}") for i in range(size)]
    replicas = [3] * size
    start_at = time.time()
    requests, walls, cpus = [], [], []
    try:
        for tick in range(TICKS):
            now = start_at + 15 * tick
            outcomes = []
            for i, key in enumerate(keys):
                scales = i % 10 == tick % 10
                fails = i % 100 == 99
                desired = replicas[i] + 1 if scales else replicas[i]
                decision = decisions.Decision(
                    at=now,
                    current=replicas[i],
                    desired=desired,
                    raw=desired,
                    reason="scale_up" if scales else "at_target",
                    message=f"queue is {10 * desired - 3 + tick % 3} against a target of 10 per replica",
                    driving_metric="queue",
                    recommendations=(
                        decisions.MetricRecommendation(
                            "queue", 10.0 * desired - 3, 10.0, "AverageValue", desired
                        ),
                    ),
                )
                observation = decisions.Observation(now, replicas[i], replicas[i], ())
                error = "cannot scale Deployment: 403 forbidden" if fails else None
                state = decisions.ScalingState(recommendations=((now, desired),))
                outcomes.append(
                    policies.TickOutcome(key, decision, state, error, scales and not fails, observation)
                )
                if scales and not fails:
                    replicas[i] = desired
            before = await _counts(api)
            cpu0, wall0 = time.process_time(), time.perf_counter()
            await recorder.record(outcomes, now)
            walls.append(time.perf_counter() - wall0)
            cpus.append(time.process_time() - cpu0)
            after = await _counts(api)
            requests.append(sum(after.values()) - sum(before.values()))
    finally:
        await api.close()
    later = slice(1, None)  # the first tick writes everything in both modes
    return {
        "requests": sum(requests[later]) / (TICKS - 1),
        "wall": sum(walls[later]) / (TICKS - 1),
        "cpu": sum(cpus[later]) / (TICKS - 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-c", SERVER, str(port)], start_new_session=True)
    rows = []
    try:
        time.sleep(1.5)
        for size in args.sizes:
            every = asyncio.run(_run(size, f"http://127.0.0.1:{port}", 0.0))
            beat = asyncio.run(_run(size, f"http://127.0.0.1:{port}", 180.0))
            rows.append((size, every, beat))
            print(json.dumps({"size": size, "every_tick": every, "heartbeat": beat}), file=sys.stderr)
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=10)
    table = [
        "| policies | API requests per tick: every tick | heartbeat 180 s | ratio "
        "| record wall per tick (s): every tick | heartbeat "
        "| record CPU per tick (s): every tick | heartbeat |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for size, every, beat in rows:
        table.append(
            f"| {size:,} | {every['requests']:,.0f} | {beat['requests']:,.0f} "
            f"| {every['requests'] / max(beat['requests'], 1):.1f}x "
            f"| {every['wall']:.2f} | {beat['wall']:.2f} "
            f"| {every['cpu']:.2f} | {beat['cpu']:.2f} |"
        )
    body = "\n".join(table) + (
        "\n\nPer tick 10 % of the policies scale (a Scaled Event and a status write each, in both modes), "
        "1 % fail with the same error every tick, the rest hold steady; averages over ticks 2 to 6. "
        "'Every tick' is `SCALEPLANE_STATUS_HEARTBEAT_SECONDS=0`, the operator's behaviour before the "
        "heartbeat. With the heartbeat, what is written is the tenth that scales (status and Event) and the "
        "tenth that scaled the tick before (its reason changes back); steady and failing policies cost "
        "nothing within 180 s (their "
        "repeated ScalingFailed Event is counted, its count written once per heartbeat). The API server "
        "is a counting no-op in another process on 127.0.0.1: its own latency is not in the figures. "
        f"Load average when this run started: {load:.1f} (the machine is shared with other work)."
    )
    print(body)
    if not args.no_record:
        from bench import recording

        recording.record("operator-status-load", "## Operator: API requests for status and Events", body)


if __name__ == "__main__":
    main()
