"""`Platform`: the whole platform of one stack, composed from the components in dependency order.

cluster -> database, cache (in or beside the cluster) -> monitoring -> exporters -> workers ->
scaling operator (which needs the database's replica target for its default policy). Everything that
differs between stacks is in `config.PlatformConfig`; nothing here branches on a cloud except through
the backend.
"""

from __future__ import annotations

from pathlib import Path

import pulumi

from scaleplane.infra import (
    backends,
    components,
    config,
    exporters,
    monitoring,
    scaling_operator,
    workloads,
)


class Platform(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        platform: config.PlatformConfig,
        project_root: Path,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("scaleplane:platform:Platform", name, None, opts)
        backend = backends.get(platform.target)
        child = pulumi.ResourceOptions(parent=self)
        self.cluster = components.Cluster(f"{name}-cluster", platform, backend, opts=child)
        self.database = components.Database(f"{name}-db", platform, backend, self.cluster, opts=child)
        self.cache = components.Cache(f"{name}-cache", platform, backend, self.cluster, opts=child)
        handle = self.cluster.handle
        self.monitoring = (
            monitoring.Monitoring(f"{name}-monitoring", platform, handle, project_root, opts=child)
            if platform.monitoring.enabled
            else None
        )
        self.exporters = (
            exporters.Exporters(
                f"{name}-exporters",
                platform,
                handle,
                self.database.handle,
                self.cache.handle,
                [self.monitoring.release],
                opts=child,
            )
            if self.monitoring
            else None
        )
        self.workers = (
            workloads.Workers(f"{name}-workers", platform, handle, opts=child)
            if platform.operator.workers.image
            else None
        )
        self.operator = (
            scaling_operator.ScalingOperator(
                f"{name}-operator", platform, handle, self.database.handle, project_root, opts=child
            )
            if platform.operator.enabled
            else None
        )
        self.outputs: dict[str, pulumi.Input[object]] = {
            "target": platform.target,
            "environment": platform.environment,
            "clusterEndpoint": self.cluster.endpoint,
            "kubeconfig": self.cluster.kubeconfig,
            "databaseWriterEndpoint": self.database.writer_endpoint,
            "databaseReadEndpoints": self.database.read_endpoints,
            "databasePort": self.database.handle.port,
            "cacheEndpoint": self.cache.primary_endpoint,
            "cacheReaderEndpoint": self.cache.reader_endpoint,
            "cachePort": self.cache.handle.port,
            "prometheusUrl": self.monitoring.prometheus_url if self.monitoring else None,
        }
        self.register_outputs(self.outputs)
