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

This module is the assembly: the order things start and stop, the claim on the state directory, and
what `status` reads. The parts live beside it, and every name callers use is importable from here:
`settings` (the config, the errors, `load_policies`), `launching` (the servers, the sample app, the
watchdog, the exporters) and `looping` (the tick, the gateway's wake, the decision log).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from scaleplane.control import meters, policies, ticking
from scaleplane.functions import announcing
from scaleplane.local import launching, looping, policyfiles, runfiles, statefiles
from scaleplane.local.launching import Servers
from scaleplane.local.looping import RECENT_DECISIONS, WOKEN
from scaleplane.local.pools import functioncatalog, functionhome, targetkinds
from scaleplane.local.servers import alerting, ports
from scaleplane.local.settings import (
    DEFAULT_TICK_SECONDS,
    AlreadyRunning,
    PlatformConfig,
    PlatformError,
    Progress,
    load_policies,
)
from scaleplane.metrics import prometheus as prometheus_source
from scaleplane.scaling import decisions

__all__ = [
    "DEFAULT_TICK_SECONDS",
    "NAMESPACE",
    "RECENT_DECISIONS",
    "WOKEN",
    "AlreadyRunning",
    "Platform",
    "PlatformConfig",
    "PlatformError",
    "Progress",
    "Servers",
    "load_policies",
]

log = looping.log
NAMESPACE = "local"


class Platform(looping.LocalLoop):
    def __init__(self, config: PlatformConfig, *, on_step: Callable[[str], None] | None = None) -> None:
        super().__init__(config.state_dir.resolve(), config.tick_seconds)
        self.config = config
        self.servers_dir = runfiles.servers_dir(self.state_dir)
        self.progress = Progress(on_step or (lambda _: None))
        self.metrics_server = meters.MetricsServer(self.instruments.registry, ports.HOST)
        self.servers: Servers | None = None
        self.policy_files: list[policyfiles.PolicyFile] = []
        self.targets: dict[str, targetkinds.LocalTarget] = {}
        self.started_at: float | None = None
        self.exporters: list[Any] = []
        self.alerting = alerting.LocalAlerting(self.state_dir, self.servers_dir)
        self._source: prometheus_source.PrometheusSource | None = None
        self._claimed = False
        self._lock: IO[str] | None = None
        self.functions: functionhome.FunctionHome | None = None
        self.catalog_sync: functioncatalog.CatalogSync | None = None
        self._catalog_task: asyncio.Task[None] | None = None

    # Files (decisions_path and state_path are the loop's) -------------------------------------------

    @property
    def readpool_path(self) -> Path:
        return self.state_dir / "readpool.json"

    @property
    def app_url(self) -> str:
        assert self.servers is not None
        return f"http://{ports.HOST}:{self.servers.app_port}"

    @property
    def broker_url(self) -> str:
        assert self.servers is not None
        return f"redis://{ports.HOST}:{self.servers.redis.port}/0"

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
        # Kept before they start: when one fails, stop() ends the others.
        self.servers = launching.build(self.config, self.servers_dir)
        await launching.start_servers(self.servers)
        self.started_at = time.time()
        step("starting the sample app")
        await launching.start_app(self.servers, self.servers_dir, self.readpool_path, self.broker_url)
        port = await self.metrics_server.start()
        self.servers.prometheus.set_targets("scaleplane", [f"{ports.HOST}:{port}"])
        launching.start_watchdog(self.servers, self.state_dir, self.servers_dir)
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
        await launching.start_exporters(self.servers, self.servers_dir, context, self.exporters)
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
            await launching.stop_servers(self.servers)
        if self._claimed:
            # Anything a failed stop above left behind (its PID file is still there) ends here.
            runfiles.end_leftovers(self.state_dir, skip_pid=os.getpid())
            self._write_platform("stopped")
            runfiles.release(self.state_dir)
            self._claimed = False
        if self._lock is not None:
            self._lock.close()  # closing the file releases the lock
            self._lock = None

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
