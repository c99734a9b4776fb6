"""The local platform: real servers, the sample app, the pools, and the control loop, from one config.

`Platform` is an async context manager. Entering it starts, on 127.0.0.1 and on free ports, under the
state directory (`runfiles` has the layout):

    Prometheus (scrapes everything below, every second)   Redis (Celery broker db 0, app cache db 1)
    PostgreSQL primary (the app's schema; with `ha_database`, etcd and a Patroni leader with a
    synchronous standby, `ha.hadatabases`)                the sample app (`local.app.api`)
    the controller's own /metrics (`control.meters`)       one pool per policy target (`pools`)
    Alertmanager and its webhook receiver (`alerting`: the project's alert rules, alerts.jsonl)
    a watchdog that ends everything if this process dies without cleaning up (`watchdog`)

then `run(stop)` ticks the shared Controller every `tick_seconds` until `stop` is set; leaving the
context stops everything in the reverse order (pools drain first). Only one platform runs per state
directory: a second one is refused with a message that says which process holds it. Leftovers of a
crashed run are ended first (and reported in `notes`).

State across restarts: every tick rewrites `state.json` (engine state and the replica count asked of
each target) and appends changed or failed decisions to `decisions.jsonl`; the next start opens each
pool at the remembered count (within the policy's bounds) and hands the engine its remembered
windows, so a restart resumes where it stopped instead of scaling from minReplicas again.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import fcntl
import logging
import os
import sys
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import requests

from scaleplane.control import meters, policies, ticking
from scaleplane.functions import announcing
from scaleplane.local import policyfiles, runfiles, statefiles
from scaleplane.local.ha import hadatabases
from scaleplane.local.pools import functioncatalog, functionhome, targetkinds
from scaleplane.local.servers import (
    alerting,
    ports,
    postgres,
    processes,
    prometheus,
    redis,
    stockexporters,
    watchdog,
)
from scaleplane.metrics import prometheus as prometheus_source
from scaleplane.scaling import decisions
from scaleplane.scaling.deciding import activation

log = logging.getLogger(__name__)
DEFAULT_TICK_SECONDS = 5.0
NAMESPACE = "local"
RECENT_DECISIONS = 200
WOKEN = "WokenByGateway"  # the reason of a wake in decisions.jsonl (not a tick's decision)


class PlatformError(RuntimeError):
    """The platform cannot start; the message says why and what to do."""


class AlreadyRunning(PlatformError):
    pass


@dataclass(frozen=True)
class PlatformConfig:
    state_dir: Path = runfiles.DEFAULT_STATE_DIR
    policies: Path = policyfiles.BUILTIN_DIR
    tick_seconds: float = DEFAULT_TICK_SECONDS
    scrape_interval: str = "1s"
    wait_ready_seconds: float = 90.0
    gateway_port: int | None = None  # the function gateway's port (a free one when None)
    ha_database: bool = False  # the database on Patroni + etcd (leader, sync standby), not one server

    def __post_init__(self) -> None:
        if not 0.2 <= self.tick_seconds <= 600:
            raise ValueError(f"tick must be 0.2..600 seconds, was {self.tick_seconds}")


@dataclass
class Servers:
    prometheus: prometheus.PrometheusServer
    redis: redis.RedisServer
    primary: postgres.PostgresServer | hadatabases.HaDatabase
    app: processes.SupervisedProcess | None = None
    app_port: int = 0
    watchdog: processes.SupervisedProcess | None = None


@dataclass
class Progress:
    """Start-up steps, for the CLI's spinner (`on_step`) and for `notes` shown afterwards."""

    on_step: Callable[[str], None] = lambda _: None
    notes: list[str] = field(default_factory=list)


class Platform:
    def __init__(self, config: PlatformConfig, *, on_step: Callable[[str], None] | None = None) -> None:
        self.config = config
        self.state_dir = config.state_dir.resolve()
        self.servers_dir = runfiles.servers_dir(self.state_dir)
        self.progress = Progress(on_step or (lambda _: None))
        self.instruments = meters.LoopMeters()
        self.metrics_server = meters.MetricsServer(self.instruments.registry, ports.HOST)
        self.servers: Servers | None = None
        self.policy_files: list[policyfiles.PolicyFile] = []
        self.targets: dict[str, targetkinds.LocalTarget] = {}
        self.managed: list[policies.ManagedPolicy] = []
        self.controller: ticking.Controller | None = None
        self.last: dict[str, policies.TickOutcome] = {}
        self.recent: deque[dict[str, Any]] = deque(maxlen=RECENT_DECISIONS)
        self.ticks = 0
        self.started_at: float | None = None
        self.exporters: list[Any] = []
        self.alerting = alerting.LocalAlerting(self.state_dir, self.servers_dir)
        self._source: prometheus_source.PrometheusSource | None = None
        self._claimed = False
        self._lock: IO[str] | None = None
        self.functions: functionhome.FunctionHome | None = None
        self.woken: dict[str, float] = {}  # policy name -> when the gateway woke its function
        self.catalog_sync: functioncatalog.CatalogSync | None = None
        self._catalog_task: asyncio.Task[None] | None = None

    # Files ------------------------------------------------------------------------------------------

    @property
    def decisions_path(self) -> Path:
        return self.state_dir / "decisions.jsonl"

    @property
    def state_path(self) -> Path:
        return self.state_dir / "state.json"

    @property
    def readpool_path(self) -> Path:
        return self.state_dir / "readpool.json"

    @property
    def app_url(self) -> str:
        assert self.servers is not None
        return f"http://{ports.HOST}:{self.servers.app_port}"

    # Life cycle -------------------------------------------------------------------------------------

    async def __aenter__(self) -> Platform:
        try:
            await self.start()
        except BaseException:
            await self.stop()
            raise
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.stop()

    async def start(self) -> None:
        step = self.progress.on_step
        self.policy_files = load_policies(self.config.policies)  # a bad file stops us before anything runs
        declared = {d.pool_name: d for d in functionhome.load(self.config.policies)}
        self._claim()
        remembered = statefiles.load_state(self.state_path)

        step("starting Prometheus, Redis and PostgreSQL")
        self.servers = await self._start_servers()
        self.started_at = time.time()
        step("starting the sample app")
        await self._start_app()
        port = await self.metrics_server.start()
        self.servers.prometheus.set_targets("scaleplane", [f"{ports.HOST}:{port}"])
        self._start_watchdog()
        step("starting Alertmanager (the project's alert rules, routed to the platform's webhook)")
        await self.alerting.start(self.servers.prometheus)

        step("opening the pools")
        context = targetkinds.Context(
            state_dir=self.servers_dir,
            broker_url=self.broker_url,
            primary=self.servers.primary,
            prometheus=self.servers.prometheus,
            readpool_path=self.readpool_path,
            functions=declared,
        )
        for policy in self.policy_files:
            key = f"{policy.spec.target_ref.kind}/{policy.spec.target_ref.name}"
            if key not in self.targets:
                self.targets[key] = targetkinds.build(policy, context)
            memory = remembered.get(policy.name)
            initial = policy.spec.min_replicas
            if memory is not None and memory.replicas is not None:
                initial = min(max(memory.replicas, policy.spec.min_replicas), policy.spec.max_replicas)
                self.progress.notes.append(
                    f"{policy.name}: resumed at {initial} replicas with the engine state of the last run"
                )
            await self.targets[key].open(initial)
            self.managed.append(
                policies.ManagedPolicy(
                    key=policies.PolicyKey(NAMESPACE, policy.name),
                    spec=policy.spec,
                    state=memory.state if memory is not None else decisions.ScalingState(),
                    target=self.targets[key],
                )
            )
        step("starting the exporters")
        await self._start_exporters(context)
        step("starting the function gateway")
        await self._start_functions(set(declared))
        step("waiting for the first replicas to be ready")
        for managed in self.managed:
            target = self.targets[f"{managed.spec.target_ref.kind}/{managed.spec.target_ref.name}"]
            count = await target.read()
            with contextlib.suppress(TimeoutError):
                await target.wait_ready(count.current, timeout=self.config.wait_ready_seconds)

        self._source = prometheus_source.PrometheusSource(self.servers.prometheus.url)
        self.controller = ticking.Controller(self._source)
        self._write_platform("running")

    @property
    def broker_url(self) -> str:
        assert self.servers is not None
        return f"redis://{ports.HOST}:{self.servers.redis.port}/0"

    def _claim(self) -> None:
        # The lock closes the race of two `up`s at once; the PID record says who holds it, for humans.
        self.state_dir.mkdir(parents=True, exist_ok=True)
        lock = (self.state_dir / "controller.lock").open("a")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            lock.close()
            holder = runfiles.supervisor(self.state_dir)
            raise AlreadyRunning(
                f"a local platform already runs from {self.state_dir} "
                f"(controller pid {holder.pid if holder else '?'}): "
                "see it with `scaleplane local status`, stop it with `scaleplane local down`"
            ) from None
        self._lock = lock
        ended = runfiles.end_leftovers(self.state_dir, skip_pid=os.getpid())
        if ended:
            names = ", ".join(f"{r.name} (pid {r.pid})" for r in ended)
            self.progress.notes.append(
                f"ended leftovers of an earlier run that did not stop cleanly: {names}"
            )
        runfiles.claim(self.state_dir)
        self._claimed = True
        self.state_dir.chmod(0o755)  # the postgres user must traverse it (see postgres.check_reachable)

    async def _start_servers(self) -> Servers:
        self.servers_dir.mkdir(parents=True, exist_ok=True)
        self.servers_dir.chmod(0o755)
        prom = prometheus.PrometheusServer(
            self.servers_dir / "prometheus",
            scrape_interval=self.config.scrape_interval,
            evaluation_interval=self.config.scrape_interval,
        )
        cache = redis.RedisServer(self.servers_dir / "redis")
        primary: postgres.PostgresServer | hadatabases.HaDatabase
        if self.config.ha_database:
            primary = hadatabases.HaDatabase(self.servers_dir / "patroni")
        else:
            primary = postgres.PostgresServer(self.servers_dir / "postgres-primary", name="postgres-primary")
        self.servers = Servers(prom, cache, primary)
        results = await asyncio.gather(
            asyncio.to_thread(prom.start),
            asyncio.to_thread(cache.start),
            asyncio.to_thread(primary.start),
            return_exceptions=True,
        )
        failures = [r for r in results if isinstance(r, BaseException)]
        if failures:
            raise PlatformError(f"a server did not start: {failures[0]}")
        return self.servers

    async def _start_app(self) -> None:
        assert self.servers is not None
        servers = self.servers
        if not self.readpool_path.exists():
            from scaleplane.local.app import readpool

            readpool.write_members(self.readpool_path, [])

        def launch(port: int) -> processes.SupervisedProcess:
            argv = [
                sys.executable, "-m", "scaleplane.local.app.api", "--port", str(port),
                "--primary", servers.primary.dsn, "--redis", f"redis://{ports.HOST}:{servers.redis.port}/1",
                "--read-pool-file", str(self.readpool_path),
            ]  # fmt: skip
            env = {**os.environ, "SCALEPLANE_BROKER_URL": self.broker_url, "PYTHONUNBUFFERED": "1"}
            app = processes.SupervisedProcess("sample-app", argv, run_dir=self.servers_dir / "app", env=env)
            app.start()
            try:
                app.wait_ready(
                    lambda: _http_ok(f"http://{ports.HOST}:{port}/healthz"), 30, "answering /healthz"
                )
            except processes.ProcessFailed:
                app.stop()
                raise
            servers.app_port = port
            return app

        servers.app = await asyncio.to_thread(
            ports.launch_on_port, "sample-app", None, launch, processes.failure_log
        )
        servers.prometheus.set_targets("sample-app", [f"{ports.HOST}:{servers.app_port}"])

    async def _start_exporters(self, context: targetkinds.Context) -> None:
        """Queue depth, replica lag and read load, as Prometheus series the policies query; beside them
        postgres_exporter and redis_exporter when installed (the Database and Cache dashboards)."""
        assert self.servers is not None
        s = self.servers
        # postgres_exporter (lib/pq) cannot follow a multi-host DSN: it watches the leader of the start.
        db = s.primary
        database_dsn = db.leader_dsn if isinstance(db, hadatabases.HaDatabase) else db.dsn
        stock = stockexporters.installed(
            database_dsn, f"redis://{ports.HOST}:{s.redis.port}", self.servers_dir / "exporters"
        )
        self.exporters += [exporter for _, exporter in stock]
        starting = asyncio.gather(*(asyncio.to_thread(e.start) for _, e in stock), return_exceptions=True)
        try:
            for exporter in targetkinds.exporters(context):
                self.exporters.append(exporter)
                await asyncio.to_thread(exporter.start)
                self.servers.prometheus.set_targets("exporter", [exporter.address])
        finally:
            results = await starting
        for (job, one), result in zip(stock, results, strict=True):
            if isinstance(result, BaseException):  # optional: the platform runs without it
                log.warning("%s did not start (%s); its dashboard gets no data", one.name, result)
            else:
                s.prometheus.set_targets(job, [one.address])

    async def _start_functions(self, declared: set[str]) -> None:
        assert self.servers is not None
        redis_url = f"redis://{ports.HOST}:{self.servers.redis.port}"
        try:
            hooks = announcing.hooks_from_env()
        except ValueError as exc:
            raise PlatformError(str(exc)) from None
        self.functions = functionhome.FunctionHome(
            self.servers_dir,
            gateway_port=self.config.gateway_port,
            redis_url=f"{redis_url}/{functionhome.JOURNAL_DB}",
            hooks=hooks,
        )
        await self.functions.start(self.wake)
        self.servers.prometheus.set_targets("gateway", [f"{ports.HOST}:{self.functions.gateway_port}"])
        self.catalog_sync = functioncatalog.CatalogSync(
            self, f"{redis_url}/{functionhome.CATALOG_DB}", declared=declared, hooks=hooks
        )
        self._catalog_task = asyncio.get_running_loop().create_task(self.catalog_sync.run())

    async def wake(self, key: Any) -> str:
        """The gateway's signal: a call waits for a function at zero. Scale its pool now, not next tick.

        The policy is marked active from now (the engine's `lastActiveAt`), so the next tick does not
        take the instance away before the queued calls show in Prometheus.
        """
        pool = f"{key.namespace}.{key.name}"
        for managed in self.managed:
            if managed.spec.target_ref.kind == "FunctionPool" and managed.spec.target_ref.name == pool:
                count = await managed.target.read()
                now = time.time()
                self.woken[managed.key.name] = now
                managed.state = dataclasses.replace(managed.state, last_active_at=now)
                if count.current > 0:
                    return f"already at {count.current}"
                wake_to = activation.wake_count(managed.spec, None)
                await managed.target.scale(wake_to)
                log.info("%s woken by the gateway: 0 -> %d", managed.key.name, wake_to)
                # In the decision log too: the wake is the 0 -> N the next ticks continue from.
                record: dict[str, Any] = {
                    "policy": managed.key.name,
                    "scaled": True,
                    "error": None,
                    "at": now,
                }
                record |= {"current": 0, "desired": wake_to, "reason": WOKEN, "message": "a call waits"}
                statefiles.append_decision(self.decisions_path, record)
                self.recent.append(record)
                return f"0 -> {wake_to}"
        raise KeyError(pool)

    def _start_watchdog(self) -> None:
        assert self.servers is not None
        record = processes.read_record(runfiles.controller_pid_file(self.state_dir))
        assert record is not None
        argv = [
            sys.executable, "-m", "scaleplane.local.servers.watchdog", "--state-dir", str(self.state_dir),
            "--pid", str(record.pid), "--start-ticks", str(record.start_ticks),
        ]  # fmt: skip
        self.servers.watchdog = processes.SupervisedProcess(
            watchdog.NAME, argv, run_dir=self.servers_dir
        ).start()

    async def stop(self) -> None:
        """Stop everything that was started, pools first (they drain), servers last; never raises."""
        if self.servers is not None and self.servers.watchdog is not None:
            await asyncio.to_thread(self.servers.watchdog.stop)
        if self._catalog_task is not None:
            self._catalog_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._catalog_task
        if self.catalog_sync is not None:
            with contextlib.suppress(Exception):
                await self.catalog_sync.close()
        if self.functions is not None:  # the gateway drains its calls while the instances still run
            with contextlib.suppress(Exception):
                await self.functions.stop_gateway()
        for target in self.targets.values():
            try:
                await asyncio.wait_for(target.close(), timeout=90)
            except Exception as exc:  # a pool that cannot drain is still stopped below by PID file
                log.warning("closing %s failed: %s", target, exc)
        for exporter in reversed(self.exporters):
            with contextlib.suppress(Exception):
                await asyncio.to_thread(exporter.stop)
        await self.alerting.stop()
        await self.metrics_server.stop()
        if self._source is not None:
            self._source.close()
        if self.servers is not None:
            s = self.servers
            for stop in (s.app.stop if s.app else None, s.primary.stop, s.redis.stop, s.prometheus.stop):
                if stop is not None:
                    with contextlib.suppress(Exception):
                        await asyncio.to_thread(stop)
        if self._claimed:
            # Anything a failed stop above left behind (its PID file is still there) ends here.
            runfiles.end_leftovers(self.state_dir, skip_pid=os.getpid())
            self._write_platform("stopped")
            runfiles.release(self.state_dir)
            self._claimed = False
        if self._lock is not None:
            self._lock.close()  # closing the file releases the lock
            self._lock = None

    # The control loop -------------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Tick every `tick_seconds` until `stop` is set (a tick in progress finishes first)."""
        while not stop.is_set():
            started = time.monotonic()
            await self.tick()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    stop.wait(), max(0.0, self.config.tick_seconds - (time.monotonic() - started))
                )

    async def tick(self) -> list[policies.TickOutcome]:
        assert self.controller is not None
        started = time.monotonic()
        outcomes = await self.controller.tick(self.managed, time.time())
        self.ticks += 1
        remembered = {}
        for managed, outcome in zip(self.managed, outcomes, strict=True):
            managed.state = _with_wake(outcome.state, self.woken.get(managed.key.name))
            self.last[managed.key.name] = outcome
            self.instruments.record(
                outcome, managed.spec.metrics, (managed.spec.min_replicas, managed.spec.max_replicas)
            )
            decision = outcome.decision
            count = await managed.target.read()
            remembered[managed.key.name] = statefiles.Remembered(outcome.state, count.current, time.time())
            changed = decision is not None and decision.desired != decision.current
            if outcome.scaled or outcome.error is not None or changed:
                ready = outcome.observation.ready_replicas if outcome.observation else None
                record = statefiles.decision_record(
                    managed.key.name, decision, scaled=outcome.scaled, error=outcome.error, ready=ready
                )
                record.setdefault("at", time.time())
                statefiles.append_decision(self.decisions_path, record)
                self.recent.append(record)
        statefiles.save_state(self.state_path, remembered)
        self.instruments.tick_duration.observe(time.monotonic() - started)
        self.instruments.tick_queries.set(len(ticking.distinct_queries(self.managed)))
        return outcomes

    # What `status` reads ----------------------------------------------------------------------------

    def _write_platform(self, status: str) -> None:
        info: dict[str, Any] = {"status": status, "pid": os.getpid(), "stateDir": str(self.state_dir)}
        if self.servers is not None:
            s = self.servers
            info.update(
                startedAt=self.started_at,
                prometheus=s.prometheus.url,
                redis=s.redis.url,
                postgres=s.primary.dsn,
                haDatabase=self.config.ha_database,
                app=self.app_url if s.app_port else None,
                controllerMetrics=f"http://{ports.HOST}:{self.metrics_server.port}/metrics",
                gateway=self.functions.gateway_url if self.functions is not None else None,
                tickSeconds=self.config.tick_seconds,
                policies={
                    p.name: f"{p.spec.target_ref.kind}/{p.spec.target_ref.name}" for p in self.policy_files
                },
                policiesPath=str(self.config.policies.resolve()),
            )
        runfiles.write_platform(self.state_dir, info)


def load_policies(path: Path) -> list[policyfiles.PolicyFile]:
    """The policy files (with one generated per Function), each checked to name a target we can build."""
    found = policyfiles.load(path)
    declared = functionhome.load(path)
    found = sorted([*found, *functionhome.policies(declared, found)], key=lambda p: p.name)
    pools = {d.pool_name: d for d in declared}
    for policy in found:
        targetkinds.check(policy, pools)
    return found


def _with_wake(state: decisions.ScalingState, woken_at: float | None) -> decisions.ScalingState:
    # A wake that landed while the tick ran must survive the tick's new state (see Platform.wake).
    if woken_at is None or (state.last_active_at or 0.0) >= woken_at:
        return state
    return dataclasses.replace(state, last_active_at=woken_at)


def _http_ok(url: str) -> bool:
    return requests.get(url, timeout=1).status_code == 200
