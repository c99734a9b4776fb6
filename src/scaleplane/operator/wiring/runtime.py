"""Everything one running operator owns, built at start-up and torn down at cleanup.

Kept in kopf's per-operator `memo` (not in module globals), so two operators in one process, as the
tests run them, never share a registry, a metrics registry or a Lease.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from typing import Any

from scaleplane.control import meters as control_meters
from scaleplane.control import ticking
from scaleplane.kube import clients, credentials
from scaleplane.metrics import prometheus
from scaleplane.operator.loop import leasing, looping
from scaleplane.operator.records import hooking, instruments, recording, registering
from scaleplane.operator.wiring import settings
from scaleplane.targets import awscalls
from scaleplane.targets import registry as target_registry

log = logging.getLogger(__name__)
STATE_SAVE_SECONDS = 10.0  # at shutdown, within the pod's terminationGracePeriodSeconds (30 s default)


@dataclass
class Runtime:
    config: settings.OperatorSettings
    api: clients.KubeClient
    registry: registering.Registry
    meters: instruments.Instruments
    hooks: hooking.HookDispatcher
    loop: looping.OperatorLoop
    lease: leasing.LeaseKeeper | None
    metrics_server: control_meters.MetricsServer | None
    closers: list[object]
    task: asyncio.Task[None] | None = None

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
        if self.loop.leading:  # hand over: engine states newer than their status (the heartbeat)
            try:
                async with asyncio.timeout(STATE_SAVE_SECONDS):
                    saved = await self.loop.recorder.save_states()
                log.info("saved %d engine states before stopping", saved)
            except TimeoutError:
                log.warning("could not save every engine state within %g s", STATE_SAVE_SECONDS)
        if self.lease is not None:
            await self.lease.stop()
        await self.hooks.stop()
        if self.metrics_server is not None:
            await self.metrics_server.stop()
        await self.api.close()
        for closer in self.closers:
            with contextlib.suppress(Exception):
                closer.close()  # type: ignore[attr-defined]


async def build(config: settings.OperatorSettings, found: credentials.Credentials) -> Runtime:
    """Build (not start) everything, reaching the API server with `found` (operator.wiring.connecting)."""
    log.info("reaching the API server %s with the %s", found.server, found.source)
    api = clients.KubeClient(found)
    # Every kind through /scale, pinned to the policy's own namespace; RDS replicas and Aurora readers
    # through boto3 clients built on their first tick (no AWS policy, no AWS call).
    # One LIST per namespace and kind answers a tick's reads: fresh for at most half a tick.
    aws = awscalls.AwsClients(
        awscalls.AwsSettings(
            region=config.aws_region,
            max_lag_seconds=config.rds_max_lag_seconds,
            instance_class=config.rds_instance_class or None,
        )
    )
    targets = target_registry.for_cluster(api, aws=aws, fresh_for=min(2.0, config.tick_seconds / 2))
    registry = registering.Registry(make_target=targets.resolve)
    meters = instruments.Instruments()
    hooks = hooking.HookDispatcher.from_settings(config, meters)
    source = prometheus.PrometheusSource(config.prometheus_url, batch=config.batch_queries)
    controller = ticking.Controller(
        source, target_timeout=config.target_timeout, cpu_rate_seconds=config.cpu_rate_seconds
    )
    recorder = recording.Recorder(api, registry, meters, hooks, heartbeat=config.status_heartbeat_seconds)
    lease = None
    if config.lease:
        lease = leasing.LeaseKeeper(
            api,
            namespace=config.lease_namespace,
            name=config.lease_name,
            identity=config.identity,
            timing=config.lease_timing(),
        )

    async def resync() -> None:
        # One LIST per namespace with known policies, never cluster-wide: under --namespace the
        # operator may read only its namespaces (a namespaced install has no ClusterRole for it).
        items: list[Any] = []
        for namespace in registry.namespaces():
            listing = await api.get(f"/apis/scaleplane.io/v1alpha1/namespaces/{namespace}/scalingpolicies")
            items.extend(listing.get("items") or [])
        count = registry.resync(items)
        log.info("reloaded the engine state of %d policies from their status", count)

    loop = looping.OperatorLoop(
        tick_seconds=config.tick_seconds,
        registry=registry,
        controller=controller,
        recorder=recorder,
        meters=meters,
        lease=lease,
        resync=resync,
    )
    metrics_server = None
    where = config.metrics_host_port()
    if where is not None:
        metrics_server = control_meters.MetricsServer(meters.registry, *where)
    return Runtime(config, api, registry, meters, hooks, loop, lease, metrics_server, [source])


async def start(runtime: Runtime) -> None:
    if runtime.metrics_server is not None:
        port = await runtime.metrics_server.start()
        log.info("serving /metrics on %s:%d", runtime.metrics_server.host, port)
    runtime.hooks.start()
    if runtime.lease is not None:
        runtime.lease.start()
    runtime.task = asyncio.create_task(runtime.loop.run(), name="scaleplane-loop")
