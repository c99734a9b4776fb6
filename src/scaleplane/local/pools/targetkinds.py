"""Which local pool a policy's `targetRef.kind` names, and how the platform builds and wires it.

    kind              pool                        what `replicas` counts
    WorkerPool        workers.WorkerPool          Celery worker processes on the `jobs` queue
    ReadReplicaPool   replicas.ReadReplicaPool    pg_basebackup'd PostgreSQL replicas in the app's read pool
    FunctionPool      functions.FunctionPool      runtime processes of one `kind: Function` document, behind
                                                  the gateway (local.functionhome); named <namespace>.<name>

A policy names one of these with `targetRef: {kind: WorkerPool, name: workers}`; two policies may not
share a target. Unknown kinds fail before anything starts, naming the file and the value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from scaleplane.functions.authoring import definitions
from scaleplane.local import exporters as exporters_module
from scaleplane.local import policyfiles
from scaleplane.local.pools import functionhome, workers
from scaleplane.local.pools import replicas as replica_pools
from scaleplane.local.servers import prometheus
from scaleplane.targets import protocol

KINDS = ("WorkerPool", "ReadReplicaPool", "FunctionPool")
# The series the demo's policies, live view and report read (kept in step with the policy files).
QUEUE_DEPTH_QUERY = 'sum(scaleplane_local_queue_depth{queue="jobs"})'
READ_RATE_QUERY = "sum(rate(sample_db_reads_total[10s]))"


class LocalTarget(protocol.ScaleTarget, Protocol):
    name: str
    kind: str

    async def open(self, replicas: int = 0) -> None: ...

    async def close(self) -> None: ...

    async def wait_ready(self, replicas: int, timeout: float = 60.0) -> None: ...


@dataclass(frozen=True)
class Context:
    """What a pool may need from the platform's servers."""

    state_dir: Path
    broker_url: str
    primary: replica_pools.Primary  # a PostgresServer, or the Patroni cluster of --ha-database
    prometheus: prometheus.PrometheusServer
    readpool_path: Path
    functions: Mapping[str, definitions.FunctionDefinition] = field(default_factory=dict)  # by pool name


def check(policy: policyfiles.PolicyFile, function_pools: Mapping[str, object] | None = None) -> None:
    kind = policy.spec.target_ref.kind
    if (
        kind == "FunctionPool"
        and function_pools is not None
        and policy.spec.target_ref.name not in function_pools
    ):
        raise policyfiles.PolicyFileError(
            f"{policy.source.name}: spec.targetRef.name {policy.spec.target_ref.name!r}: no `kind: Function` "
            f"document declares it (a FunctionPool is named <namespace>.<name> of a Function; declared: "
            f"{', '.join(sorted(function_pools)) or 'none'})"
        )
    if kind not in KINDS:
        raise policyfiles.PolicyFileError(
            f"{policy.source.name}: spec.targetRef.kind must be one of {', '.join(KINDS)} in local mode, "
            f"was {kind!r}"
        )


def build(policy: policyfiles.PolicyFile, context: Context) -> LocalTarget:
    check(policy, context.functions)
    ref = policy.spec.target_ref
    limit = max(policy.spec.max_replicas, 1)
    if ref.kind == "WorkerPool":
        return workers.WorkerPool(
            ref.name, context.state_dir, broker_url=context.broker_url, max_replicas=limit
        )
    if ref.kind == "ReadReplicaPool":
        return replica_pools.ReadReplicaPool(
            ref.name,
            context.state_dir,
            primary=context.primary,
            read_pool_file=context.readpool_path,
            max_replicas=limit,
        )
    if ref.kind == "FunctionPool":
        return functionhome.build_pool(context.functions[ref.name], context.state_dir, max_replicas=limit)
    raise policyfiles.PolicyFileError(
        f"{policy.source.name}: spec.targetRef.kind {ref.kind!r} is not available on this platform yet"
    )


def exporters(context: Context) -> list[exporters_module.ExporterProcess]:
    """The exporter the policies read (queue depth, replica lag, read load, pool sizes), not started."""
    sources = exporters_module.Sources(
        redis_url=context.broker_url,
        queues=[workers.DEFAULT_QUEUE],
        primary_dsn=context.primary.dsn,
        read_pool_file=context.readpool_path,
        state_dir=context.state_dir,
    )
    return [exporters_module.ExporterProcess(sources, context.state_dir / "exporter")]
