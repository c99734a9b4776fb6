"""One replica of the local controller, fenced by etcd: `python -m scaleplane.local.ha.fencedcontrolling`.

Two of these run in the operator-leader-loss drill. Each runs the project's real tick
(`control.ticking.Controller`, the real engine, a real Prometheus as its metrics source) every `--tick`
seconds; only the one holding the leader key (`leaderelecting`) actuates, and each actuation is an etcd
transaction guarded by its fencing token. Each exports `scaleplane_leader` on /metrics (what the
`ScaleplaneOperatorNotLeading` alert reads), under the job `scaleplane`.

The pool it scales is a record in etcd, the way a Deployment's `spec.replicas` is a record in the
Kubernetes API: `POOL_KEY` holds the replicas asked for, and every accepted actuation also writes one
key under `ACTUATIONS` (replicas, from, by whom, token, the tick's time). That prefix is the actuation
record the drill checks for missed and doubled decisions. No process is started for a replica: what is
under test is who actuates, not what a pool does with it.

The drill's policy follows a metric that changes every `STEP_SECONDS` (`floor(vector(time())) % 50 + 2`,
evaluated by Prometheus; `drills.engine.actuations.value_of`), with no stabilization, tolerance, cooldown
or rate limit, so every step is exactly one decision to actuate, and the step is known from the value and
the tick's time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import signal
import time
from pathlib import Path

import aetcd
import prometheus_client

from scaleplane.control import policies, ticking
from scaleplane.drills.engine import actuations
from scaleplane.local.ha import leaderelecting
from scaleplane.metrics import prometheus as metrics_prometheus
from scaleplane.scaling import decisions, specs
from scaleplane.targets import protocol

log = logging.getLogger(__name__)
POOL_KEY = b"/scaleplane/local/drill/pool"
ACTUATIONS = b"/scaleplane/local/drill/actuations/"
STEP_SECONDS = 1.0
CYCLE = 50
UNLIMITED = {
    "stabilizationWindowSeconds": 0,
    "tolerance": 0,
    "policies": [{"type": "Pods", "value": 100, "periodSeconds": 1}],
}
POLICY = {
    "targetRef": {"apiVersion": "local.scaleplane.io/v1alpha1", "kind": "WorkerPool", "name": "drill"},
    "minReplicas": 1,
    "maxReplicas": actuations.value_of(CYCLE - 1, CYCLE),
    "metrics": [
        {
            "name": "step",
            "query": f"floor(vector(time() / {STEP_SECONDS:g})) % {CYCLE} + {actuations.OFFSET}",
            "target": {"type": "AverageValue", "value": 1},
        }
    ],
    "behavior": {
"scaleUp": UNLIMITED, "scaleDown": UNLIMITED
    },
    "cooldownSeconds": 0,
}  # fmt: skip


class FencedPool:
    """The ScaleTarget: read the pool record, write it only through the leader's fenced transaction,
    and only if the record is still the one read (a decision is applied to the state it was made on)."""

    def __init__(self, leadership: leaderelecting.EtcdLeadership, acks: Path | None = None) -> None:
        self.leadership = leadership
        self.acks = acks  # one JSON line per actuation etcd acknowledged: what the drill's RPO checks
        self.tick_at = 0.0  # the tick's time, set by the loop before each tick
        self._read: tuple[int, int] = (0, 0)  # (replicas, mod revision) of the last read
        self._seq = 0

    async def read(self) -> protocol.ReplicaCount:
        client = self.leadership.client
        try:
            found = await client.get(POOL_KEY)
        except Exception as exc:
            raise protocol.TargetError(f"cannot read the pool record: {exc}") from exc
        replicas = json.loads(found.value)["replicas"] if found is not None else 0
        self._read = (replicas, found.mod_revision if found is not None else 0)
        return protocol.ReplicaCount(replicas, replicas)

    async def scale(self, replicas: int) -> None:
        client, (before, revision) = self.leadership.client, self._read
        self._seq += 1
        record = {
            "replicas": replicas,
            "from": before,
            "by": self.leadership.identity,
            "token": self.leadership.token,
            "at": self.tick_at,
        }
        key = ACTUATIONS + f"{self.leadership.token:012d}-{self._seq:06d}".encode()
        committed = await self.leadership.fenced(
            [
                client.transactions.put(POOL_KEY, json.dumps({"replicas": replicas}).encode()),
                client.transactions.put(key, json.dumps(record).encode()),
            ],
            [client.transactions.mod(POOL_KEY) == revision],
        )
        if not committed:
            raise protocol.TargetError(
                "refused by etcd: not the leader's token, or the pool changed", retryable=False
            )
        if self.acks is not None:
            with self.acks.open("a") as out:
                out.write(json.dumps({"key": key.decode(), **record}) + "\n")


async def run(args: argparse.Namespace, stop: asyncio.Event) -> None:
    timing = leaderelecting.Timing(args.lease, args.renew, args.retry)
    leader = prometheus_client.Gauge(
        "scaleplane_leader", "1 when this replica holds the leader key and actuates"
    )
    prometheus_client.start_http_server(args.metrics_port, addr="127.0.0.1")
    host, port = args.etcd.rsplit(":", 1)
    async with aetcd.Client(host=host, port=int(port), timeout=args.retry) as client:
        leadership = leaderelecting.EtcdLeadership(client, identity=args.identity, timing=timing)
        pool = FencedPool(leadership, Path(args.acks) if args.acks else None)
        spec = specs.parse_policy(POLICY)
        managed = [
            policies.ManagedPolicy(policies.PolicyKey("local", "drill"), spec, decisions.ScalingState(), pool)
        ]
        source = metrics_prometheus.PrometheusSource(args.prometheus, query_timeout=1.0, deadline=2.0)
        controller = ticking.Controller(source, target_timeout=2.0)

        async def hold() -> None:
            while not stop.is_set():
                with contextlib.suppress(Exception):  # a failed round is retried; the deadline decides
                    await leadership.try_hold()
                leader.set(1 if leadership.is_leader else 0)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timing.retry)

        holding = asyncio.create_task(hold())
        try:
            while not stop.is_set():
                started = time.monotonic()
                pool.tick_at = time.time()
                if leadership.is_leader:  # a standby ticks too in a cluster; here it only waits
                    outcome = (
                        await controller.tick(managed, pool.tick_at, may_actuate=lambda: leadership.is_leader)
                    )[0]
                    managed[0].state = outcome.state
                    if outcome.error:
                        log.warning("%s: %s", args.identity, outcome.error)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), max(0.0, args.tick - (time.monotonic() - started)))
        finally:
            holding.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await holding
            await leadership.release()
            source.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--etcd", required=True, help="HOST:PORT of etcd's client (gRPC) port")
    parser.add_argument("--prometheus", required=True, help="the metrics source, http://HOST:PORT")
    parser.add_argument("--identity", required=True)
    parser.add_argument("--metrics-port", type=int, required=True)
    parser.add_argument("--acks", help="append each acknowledged actuation to this file (JSON lines)")
    parser.add_argument("--tick", type=float, default=0.25)
    parser.add_argument("--lease", type=int, default=leaderelecting.Timing.lease)
    parser.add_argument("--renew", type=float, default=leaderelecting.Timing.renew_deadline)
    parser.add_argument("--retry", type=float, default=leaderelecting.Timing.retry)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format=f"%(asctime)s {args.identity} %(levelname)s %(message)s")

    async def serve() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await run(args, stop)

    asyncio.run(serve())


if __name__ == "__main__":
    main()
