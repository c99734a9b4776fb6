"""The platform's exporter: queue depth, replica lag, read load per server, pool sizes, for Prometheus.

Every value is read at scrape time (a `Collector`, nothing cached), from:
- Redis: `LLEN <queue>` of each Celery queue (the backlog no worker has taken yet), the send time stamped
  on the oldest message (`LINDEX <queue> -1`: kombu pushes on the left, workers pop on the right; see
  `app.jobs`), and the jobs the workers finished (`app.jobmarks.FINISHED_KEY`, a hash);
- the primary's `pg_stat_replication`: per replica, replay lag in bytes and seconds, streaming or not;
- each server in the read pool file and the primary: `pg_stat_database` / `pg_stat_activity` of the app
  database (transactions as a counter for `rate()`, tuples returned, active queries, connections);
- the pools' state files (`<state_dir>/pools/*.json`): desired and ready members per pool.
A source that does not answer shows as `scaleplane_local_source_up{source=...} 0`, never as a failed scrape.

Metrics (all gauges unless marked; label `server` is "primary" or a replica's name):
    scaleplane_local_queue_depth{queue}
    scaleplane_local_queue_oldest_age_seconds{queue}             (0 when the queue is empty)
    scaleplane_local_jobs_finished_total{queue,state}            (counter; state SUCCESS, FAILURE, ...)
    scaleplane_local_replica_lag_bytes{server}     scaleplane_local_replica_lag_seconds{server}
    scaleplane_local_replica_streaming{server}
    scaleplane_local_postgres_transactions_total{server,role}   (counter)
    scaleplane_local_postgres_tuples_returned_total{server,role} (counter)
    scaleplane_local_postgres_active_queries{server,role}
    scaleplane_local_postgres_connections{server,role}
    scaleplane_local_pool_replicas{pool,kind,state="desired"|"ready"}
    scaleplane_local_source_up{source}

Run in a process of its own (`python -m scaleplane.local.exporters --port P ...`, see `main`) or in
process with `serve(collector)`. The process also serves the broker-level queue series a cluster's queue
exporter publishes (`scaleplane.queues`: `scaleplane_queue_oldest_age_seconds`, `..._dequeued_total`),
so the Workers dashboard reads the same names in both homes.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import prometheus_client as prom
import psycopg
import redis as redis_client
import requests
from prometheus_client import core, registry

from scaleplane.local.app import jobmarks, readpool
from scaleplane.local.pools import members
from scaleplane.local.servers import ports, processes, replication
from scaleplane.queues import watching

P = "scaleplane_local_"


@dataclass
class Sources:
    redis_url: str | None = None
    queues: list[str] = field(default_factory=lambda: ["jobs"])
    primary_dsn: str | None = None
    read_pool_file: Path | None = None
    state_dir: Path | None = None


def _dbname(dsn: str) -> str:
    return str(psycopg.conninfo.conninfo_to_dict(dsn).get("dbname") or "postgres")


class PlatformCollector(registry.Collector):
    def __init__(self, sources: Sources) -> None:
        self.sources = sources

    def collect(self) -> Iterator[core.Metric]:
        up = core.GaugeMetricFamily(
            P + "source_up", "1 if the source answered this scrape", labels=["source"]
        )
        yield from self._queues(up)
        yield from self._postgres(up)
        yield from self._pools(up)
        yield up

    def _queues(self, up: core.GaugeMetricFamily) -> Iterator[core.Metric]:
        if not self.sources.redis_url:
            return
        depth = core.GaugeMetricFamily(P + "queue_depth", "Jobs waiting in the queue", labels=["queue"])
        age = core.GaugeMetricFamily(
            P + "queue_oldest_age_seconds", "Seconds the oldest waiting job has waited", labels=["queue"]
        )
        try:
            with redis_client.Redis.from_url(self.sources.redis_url, socket_timeout=1) as client:
                for queue in self.sources.queues:
                    depth.add_metric([queue], float(client.llen(queue)))
                    age.add_metric([queue], _age(client.lindex(queue, -1), time.time()))
                counts = client.hgetall(jobmarks.FINISHED_KEY)
        except redis_client.RedisError:
            up.add_metric(["redis"], 0.0)
            return
        up.add_metric(["redis"], 1.0)
        by_key = {(q, "SUCCESS"): 0.0 for q in self.sources.queues}  # before the first job, a rate of 0
        for field_name, count in counts.items():
            queue, _, state = field_name.decode().partition("|")
            by_key[(queue, state)] = float(count)
        finished = core.CounterMetricFamily(
            P + "jobs_finished", "Jobs the workers finished, by final state", labels=["queue", "state"]
        )
        for (queue, state), count in sorted(by_key.items()):
            finished.add_metric([queue, state], count)
        yield from (depth, age, finished)

    def _postgres(self, up: core.GaugeMetricFamily) -> Iterator[core.Metric]:
        servers: list[tuple[str, str, str]] = []
        if self.sources.primary_dsn:
            servers.append(("primary", "primary", self.sources.primary_dsn))
        if self.sources.read_pool_file is not None:
            try:
                members = readpool.read_members(self.sources.read_pool_file)
            except (OSError, ValueError, KeyError):
                members = []
            servers += [(m.name, "replica", m.dsn) for m in members]
        labels = ["server", "role"]
        xacts = core.CounterMetricFamily(
            P + "postgres_transactions", "Transactions (rate() = reads/s)", labels=labels
        )
        tuples = core.CounterMetricFamily(P + "postgres_tuples_returned", "Rows read", labels=labels)
        active = core.GaugeMetricFamily(
            P + "postgres_active_queries", "Client queries running", labels=labels
        )
        conns = core.GaugeMetricFamily(P + "postgres_connections", "Client connections", labels=labels)
        for name, role, dsn in servers:
            try:
                load = replication.read_load(dsn, _dbname(dsn))
            except psycopg.Error:
                up.add_metric([f"postgres:{name}"], 0.0)
                continue
            up.add_metric([f"postgres:{name}"], 1.0)
            xacts.add_metric([name, role], load.transactions)
            tuples.add_metric([name, role], load.tuples_returned)
            active.add_metric([name, role], float(load.active_queries))
            conns.add_metric([name, role], float(load.connections))
        yield from (xacts, tuples, active, conns)
        if self.sources.primary_dsn:
            yield from self._replication(up, self.sources.primary_dsn)

    def _replication(self, up: core.GaugeMetricFamily, primary_dsn: str) -> Iterator[core.Metric]:
        try:
            standbys = replication.standbys(primary_dsn)
        except psycopg.Error:
            up.add_metric(["postgres:replication"], 0.0)
            return
        up.add_metric(["postgres:replication"], 1.0)
        lag_bytes = core.GaugeMetricFamily(
            P + "replica_lag_bytes", "Replay lag behind the primary", labels=["server"]
        )
        lag_seconds = core.GaugeMetricFamily(
            P + "replica_lag_seconds", "Replay lag (pg_stat_replication)", labels=["server"]
        )
        streaming = core.GaugeMetricFamily(
            P + "replica_streaming", "1 while the replica streams", labels=["server"]
        )
        for standby in standbys:
            lag_bytes.add_metric([standby.name], standby.lag_bytes)
            lag_seconds.add_metric([standby.name], standby.replay_lag_seconds)
            streaming.add_metric([standby.name], 1.0 if standby.state == "streaming" else 0.0)
        yield from (lag_bytes, lag_seconds, streaming)

    def _pools(self, up: core.GaugeMetricFamily) -> Iterator[core.Metric]:
        if self.sources.state_dir is None:
            return
        sizes = core.GaugeMetricFamily(
            P + "pool_replicas", "Members per pool", labels=["pool", "kind", "state"]
        )
        for state in members.read_pool_states(self.sources.state_dir):
            for key in ("desired", "ready"):
                sizes.add_metric([str(state["name"]), str(state["kind"]), key], float(state[key]))
        yield sizes


def _age(message: bytes | None, now: float) -> float:
    """Seconds since a kombu message was sent (its `jobmarks.ENQUEUED_AT` header); 0 for none or unstamped."""
    if not message:
        return 0.0
    try:
        sent = json.loads(message).get("headers", {}).get(jobmarks.ENQUEUED_AT)
    except (ValueError, AttributeError):
        return 0.0
    return max(0.0, now - float(sent)) if isinstance(sent, int | float) else 0.0


def serve(collector: PlatformCollector, port: int = 0, *extra: registry.Collector) -> tuple[int, object]:
    """Serve /metrics in a thread of this process; returns the port and the server (call .shutdown())."""
    reg = prom.CollectorRegistry()
    for one in (collector, *extra):
        reg.register(one)
    server, _thread = prom.start_http_server(port, addr=ports.HOST, registry=reg)
    return int(server.server_port), server


class ExporterProcess:
    """The exporter as a supervised process of its own (what `local up` runs), on a free port."""

    def __init__(self, sources: Sources, run_dir: Path, *, port: int | None = None) -> None:
        self.sources = sources
        self.run_dir = run_dir
        self.requested_port = port
        self.port = 0
        self.process: processes.SupervisedProcess | None = None

    @property
    def address(self) -> str:
        return f"{ports.HOST}:{self.port}"

    def argv(self, port: int) -> list[str]:
        argv = [sys.executable, "-m", __name__, "--port", str(port)]
        s = self.sources
        argv += ["--redis-url", s.redis_url] if s.redis_url else []
        for queue in s.queues:
            argv += ["--queue", queue]
        argv += ["--primary-dsn", s.primary_dsn] if s.primary_dsn else []
        argv += ["--read-pool-file", str(s.read_pool_file)] if s.read_pool_file else []
        argv += ["--state-dir", str(s.state_dir)] if s.state_dir else []
        return argv

    def start(self, timeout: float = 30.0) -> ExporterProcess:
        def launch(port: int) -> None:
            self.port = port
            self.process = processes.SupervisedProcess("exporter", self.argv(port), run_dir=self.run_dir)
            self.process.start()
            try:
                self.process.wait_ready(self._answers, timeout, "serving /metrics")
            except processes.ProcessFailed:
                self.process.stop()
                raise

        ports.launch_on_port("exporter", self.requested_port, launch, processes.failure_log)
        return self

    def _answers(self) -> bool:
        return requests.get(f"http://{self.address}/metrics", timeout=2).status_code == 200

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m scaleplane.local.exporters", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--redis-url")
    parser.add_argument(
        "--queue", action="append", dest="queues", help="Celery queue (repeat); default: jobs"
    )
    parser.add_argument("--primary-dsn")
    parser.add_argument("--read-pool-file", type=Path)
    parser.add_argument("--state-dir", type=Path)
    args = parser.parse_args(argv)
    sources = Sources(
        args.redis_url, args.queues or ["jobs"], args.primary_dsn, args.read_pool_file, args.state_dir
    )
    watch = watching.QueueWatch(sources.redis_url, sources.queues).start() if sources.redis_url else None
    serve(PlatformCollector(sources), args.port, *([watch] if watch else []))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    if watch is not None:
        watch.stop()


if __name__ == "__main__":
    main()
