"""`Exporters`: what makes the default policies' series exist, and what tells Prometheus to scrape it.

Where each one runs (docs/infrastructure.md has the table):
- kube-state-metrics and cAdvisor: kube-prometheus-stack (the `Monitoring` component) on both targets;
- Kubernetes target: CloudNativePG's own exporter in every instance, scraped through a PodMonitor of
  ours that copies the instance's role (cnpg.io/instanceRole) into a `role` label; Redis: the bitnami
  chart's redis_exporter sidecar (cache component), which also reports the Celery queue's length;
- AWS target: one postgres_exporter per RDS read replica (role="replica") and one redis_exporter
  for ElastiCache, Deployments in the monitoring namespace scraped through PodMonitors.

Why postgres_exporter and not CloudWatch: CloudWatch has no transaction rate for RDS PostgreSQL (only
CPU, IOPS, connections), arrives a minute or more late and costs per API call; postgres_exporter reads
`pg_stat_database` like CloudNativePG does, so both targets scale replicas on the same signal.
Why no separate Celery exporter: the broker is Redis on both targets and a queue is a Redis list, so
redis_exporter's `--check-single-keys` is the queue length (LLEN, 0 when empty) without one more
process; danihodovic/celery-exporter reads the same LLEN and adds task events the policies do not use.

The queue exporter (`python -m scaleplane.queues`, in the operator's image, `operator.image`) runs on
both targets beside the broker: Celery's messages carry no send time and redis_exporter sees no pops,
so the age of the oldest job and the jobs taken per second come from the broker's keyspace
notifications (docs/observability.md). On Kubernetes it turns the notifications on itself (CONFIG
SET); ElastiCache refuses CONFIG, so the cache's parameter group sets them (aws/elasticache.py).

Credentials: the exporters log in to RDS as `scaleplane_monitor` (a generated password in the Secret
`postgres-exporter`); the stack cannot reach the private database to create that role, so the DBA runs
the one statement docs/infrastructure.md shows. Redis uses the stack's AUTH token.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from scaleplane.infra import backends, config
from scaleplane.infra import exporter_catalogs as catalogs

NAMESPACE = "monitoring"
POSTGRES_EXPORTER_IMAGE = "quay.io/prometheuscommunity/postgres-exporter:v0.16.0"
REDIS_EXPORTER_IMAGE = "oliver006/redis_exporter:v1.66.0"
QUEUE_EXPORTER_PORT = 9808
MONITOR_USER = "scaleplane_monitor"
REQUESTS = {"requests": {"cpu": "50m", "memory": "64Mi"}}


class Exporters(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        platform: config.PlatformConfig,
        cluster: backends.ClusterHandle,
        database: backends.DatabaseHandle,
        cache: backends.CacheHandle,
        after: list[pulumi.Resource],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("scaleplane:monitoring:Exporters", name, None, opts)
        self._name = name
        self._provider = cluster.provider
        self._after = after
        for catalog in catalogs.for_target(platform):
            self._catalog(catalog)
        if platform.target == "kubernetes":
            self._cloudnative_pg(platform)
        else:
            self._rds(platform, database)
            self._elasticache(platform, cache)
        if platform.operator.enabled:
            self._queue_exporter(platform, cache)
        self.register_outputs({"catalogs": [c.name for c in catalogs.for_target(platform)]})

    def _options(self) -> pulumi.ResourceOptions:
        return backends.child(self, provider=self._provider, depends_on=self._after)

    def _catalog(self, catalog: catalogs.Catalog) -> k8s.core.v1.ConfigMap:
        return k8s.core.v1.ConfigMap(
            f"{self._name}-catalog-{catalog.name}",
            metadata={
                "name": f"scaleplane-exports-{catalog.name}",
                "namespace": NAMESPACE,
                "labels": {catalogs.CATALOG_LABEL: catalog.name},
            },
            data={"series": "\n".join(catalog.series), "source": catalog.source},
            opts=self._options(),
        )

    def _pod_monitor(self, key: str, namespace: str, spec: dict[str, Any]) -> None:
        k8s.apiextensions.CustomResource(
            f"{self._name}-podmonitor-{key}",
            api_version="monitoring.coreos.com/v1",
            kind="PodMonitor",
            metadata={"name": key, "namespace": namespace},
            spec=spec,
            opts=self._options(),
        )

    def _cloudnative_pg(self, platform: config.PlatformConfig) -> None:
        settings = platform.database
        self._pod_monitor(
            f"{settings.name}-postgres",
            settings.namespace,
            {
                "selector": {"matchLabels": {"cnpg.io/cluster": settings.name}},
                "podMetricsEndpoints": [
                    {
                        "port": "metrics",
                        "relabelings": [
                            {
                                "sourceLabels": ["__meta_kubernetes_pod_label_cnpg_io_instanceRole"],
                                "targetLabel": "role",
                            },
                            {"sourceLabels": ["__meta_kubernetes_pod_name"], "targetLabel": "pod"},
                        ],
                    }
                ],
            },
        )

    def _deployment(
        self,
        key: str,
        labels: dict[str, str],
        container: dict[str, Any],
        namespace: str = NAMESPACE,
        volumes: list[dict[str, Any]] | None = None,
    ) -> None:
        pod: dict[str, Any] = {"containers": [{**container, "resources": REQUESTS}]}
        if volumes:
            pod["volumes"] = volumes
        k8s.apps.v1.Deployment(
            f"{self._name}-{key}",
            metadata={"name": key, "namespace": namespace, "labels": labels},
            spec={
                "replicas": 1,
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": pod,
                },
            },
            opts=self._options(),
        )

    def _rds(self, platform: config.PlatformConfig, database: backends.DatabaseHandle) -> None:
        password = random.RandomPassword(
            f"{self._name}-postgres-monitor", length=32, special=False, opts=backends.child(self)
        )
        k8s.core.v1.Secret(
            f"{self._name}-postgres-exporter-auth",
            metadata={"name": "postgres-exporter", "namespace": NAMESPACE},
            string_data={"username": MONITOR_USER, "password": pulumi.Output.secret(password.result)},
            opts=self._options(),
        )
        app = "postgres-exporter"
        for index, address in enumerate(database.read_endpoints):
            replica = f"replica-{index + 1}"
            uri = pulumi.Output.concat(
                address, f":{database.port}/{catalogs.database_name(platform)}?sslmode=require"
            )
            self._deployment(
                f"{app}-{replica}",
                {"app.kubernetes.io/name": app, "role": "replica", "db_instance": replica},
                {
                    "name": "exporter",
                    "image": POSTGRES_EXPORTER_IMAGE,
                    "ports": [{"name": "metrics", "containerPort": 9187}],
                    "env": [
                        {"name": "DATA_SOURCE_URI", "value": uri},
                        *_secret_env("DATA_SOURCE_USER", "postgres-exporter", "username"),
                        *_secret_env("DATA_SOURCE_PASS", "postgres-exporter", "password"),
                    ],
                },
            )
        self._pod_monitor(
            app,
            NAMESPACE,
            {
                "selector": {"matchLabels": {"app.kubernetes.io/name": app}},
                "podTargetLabels": ["role", "db_instance"],
                "podMetricsEndpoints": [{"port": "metrics"}],
            },
        )

    def _elasticache(self, platform: config.PlatformConfig, cache: backends.CacheHandle) -> None:
        settings, workers = platform.cache, platform.operator.workers
        scheme = "rediss" if settings.transit_encryption else "redis"
        env: list[dict[str, Any]] = [
            {
                "name": "REDIS_ADDR",
                "value": pulumi.Output.concat(f"{scheme}://", cache.primary_endpoint, f":{cache.port}"),
            },
            {"name": "REDIS_EXPORTER_CHECK_SINGLE_KEYS", "value": f"db{workers.broker_db}={workers.queue}"},
        ]
        if cache.auth_token is not None:
            k8s.core.v1.Secret(
                f"{self._name}-redis-exporter-auth",
                metadata={"name": "redis-exporter", "namespace": NAMESPACE},
                string_data={"password": cache.auth_token},
                opts=self._options(),
            )
            env += _secret_env("REDIS_PASSWORD", "redis-exporter", "password")
        app = "redis-exporter"
        self._deployment(
            app,
            {"app.kubernetes.io/name": app},
            {
                "name": "exporter",
                "image": REDIS_EXPORTER_IMAGE,
                "ports": [{"name": "metrics", "containerPort": 9121}],
                "env": env,
            },
        )
        self._pod_monitor(
            app,
            NAMESPACE,
            {
                "selector": {"matchLabels": {"app.kubernetes.io/name": app}},
                "podMetricsEndpoints": [{"port": "metrics"}],
            },
        )

    def _queue_exporter(self, platform: config.PlatformConfig, cache: backends.CacheHandle) -> None:
        """Beside the broker: in `monitoring` for ElastiCache; on Kubernetes in the cache's namespace,
        where the chart's self-signed CA is (a Secret cannot be mounted from another namespace)."""
        workers, app = platform.operator.workers, "queue-exporter"
        namespace = platform.cache.namespace if cache.ca_secret else NAMESPACE
        scheme = "rediss" if platform.cache.transit_encryption else "redis"
        url = pulumi.Output.concat(
            f"{scheme}://", cache.primary_endpoint, f":{cache.port}/{workers.broker_db}"
        )
        env: list[dict[str, Any]] = []
        if cache.auth_secret and namespace != NAMESPACE:  # beside the cache: its own Secret
            env = _secret_env("REDIS_PASSWORD", *cache.auth_secret)
        elif cache.auth_token is not None:
            k8s.core.v1.Secret(
                f"{self._name}-queue-exporter-auth",
                metadata={"name": app, "namespace": namespace},
                string_data={"password": cache.auth_token},
                opts=self._options(),
            )
            env = _secret_env("REDIS_PASSWORD", app, "password")
        args = ["--queue", workers.queue, "--port", str(QUEUE_EXPORTER_PORT)]
        container: dict[str, Any] = {
            "name": "exporter",
            "image": platform.operator.image_or_default,  # has scaleplane.queues; operator/Dockerfile
            "command": ["python", "-m", "scaleplane.queues", "--redis-url", url],
            "args": args,
            "ports": [{"name": "metrics", "containerPort": QUEUE_EXPORTER_PORT}],
            "env": env,
        }
        volumes = []
        if cache.ca_secret:
            args += ["--ca-file", "/tls/ca.crt"]
            container["volumeMounts"] = [{"name": "tls", "mountPath": "/tls", "readOnly": True}]
            volumes = [{"name": "tls", "secret": {"secretName": cache.ca_secret}}]
        self._deployment(app, {"app.kubernetes.io/name": app}, container, namespace, volumes)
        self._pod_monitor(
            app,
            namespace,
            {
                "selector": {"matchLabels": {"app.kubernetes.io/name": app}},
                "podMetricsEndpoints": [{"port": "metrics"}],
            },
        )


def _secret_env(name: str, secret: str, key: str) -> list[dict[str, Any]]:
    return [{"name": name, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}]


def redis_sidecar_values(platform: config.PlatformConfig) -> dict[str, Any]:
    """The bitnami chart's `metrics` values: its redis_exporter sidecar, scraped by a ServiceMonitor, also
    reporting the Celery queue's length."""
    workers = platform.operator.workers
    return {
        "enabled": platform.monitoring.enabled,
        "serviceMonitor": {"enabled": platform.monitoring.enabled, "namespace": NAMESPACE},
        "extraEnvVars": [
            {"name": "REDIS_EXPORTER_CHECK_SINGLE_KEYS", "value": f"db{workers.broker_db}={workers.queue}"}
        ],
    }
