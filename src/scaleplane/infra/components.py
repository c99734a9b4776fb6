"""The cloud-agnostic components: `Cluster`, `Database` and `Cache`.

Each is a ComponentResource whose children come from the stack's backend (`scaleplane:target`);
callers see the same outputs on every target. Type tokens are `scaleplane:<module>:<Type>`.
"""

from __future__ import annotations

import pulumi

from scaleplane.infra import backends, config


class Cluster(pulumi.ComponentResource):
    """A Kubernetes cluster to run the platform on: created (EKS) or an existing one (kubeconfig)."""

    def __init__(
        self,
        name: str,
        platform: config.PlatformConfig,
        backend: backends.Backend,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("scaleplane:cluster:Cluster", name, None, opts)
        self.handle = backend.build_cluster(self, name, platform)
        self.kubeconfig = self.handle.kubeconfig
        self.endpoint = pulumi.Output.from_input(self.handle.endpoint)
        self.register_outputs({"endpoint": self.endpoint, "kubeconfig": self.kubeconfig})


class Database(pulumi.ComponentResource):
    """PostgreSQL: one writer and `database.readReplicas` read replicas spread over zones."""

    def __init__(
        self,
        name: str,
        platform: config.PlatformConfig,
        backend: backends.Backend,
        cluster: Cluster,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("scaleplane:database:Database", name, None, opts)
        self.handle = backend.build_database(self, name, platform, cluster.handle)
        self.writer_endpoint = pulumi.Output.from_input(self.handle.writer_endpoint)
        self.read_endpoints = pulumi.Output.all(*self.handle.read_endpoints)
        self.register_outputs(
            {
                "writerEndpoint": self.writer_endpoint,
                "readEndpoints": self.read_endpoints,
                "port": self.handle.port,
            }
        )


class Cache(pulumi.ComponentResource):
    """Redis: a primary and `cache.replicas` replicas, AUTH and encryption on by default."""

    def __init__(
        self,
        name: str,
        platform: config.PlatformConfig,
        backend: backends.Backend,
        cluster: Cluster,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("scaleplane:cache:Cache", name, None, opts)
        self.handle = backend.build_cache(self, name, platform, cluster.handle)
        self.primary_endpoint = pulumi.Output.from_input(self.handle.primary_endpoint)
        self.reader_endpoint = pulumi.Output.from_input(self.handle.reader_endpoint)
        self.register_outputs(
            {
                "primaryEndpoint": self.primary_endpoint,
                "readerEndpoint": self.reader_endpoint,
                "port": self.handle.port,
            }
        )
