"""What each exporter the stacks deploy publishes, and the default policy queries built on it.

Names and labels are read from the exporters' own source (the file is named by each entry), and the
ones that run on this machine (postgres_exporter, redis_exporter) are checked against the real binary
by tests/infra/test_exporter_catalogs.py. A catalog travels with the stack as a ConfigMap labelled
`scaleplane.io/exporter-catalog` in the monitoring namespace (`catalog_configmap`), which is what
`scaleplane check` reads: the guardrail sees only the plan, never this module.

The default queries sum over the replicas because the default policies hold an AverageValue target
(the engine divides the query's value by the ready replicas once): `avg(...)` there would divide twice,
and 3 replicas at twice the target would ask for 2 instead of 6.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from scaleplane.infra import config

CATALOG_LABEL = "scaleplane.io/exporter-catalog"


@dataclass(frozen=True)
class Catalog:
    name: str
    source: str  # where the names come from
    series: tuple[str, ...]


KUBE_STATE_METRICS = Catalog(
    "kube-state-metrics",
    "kubernetes/kube-state-metrics docs/metrics/workload/*.md (kube-prometheus-stack subchart)",
    (
        "kube_pod_container_resource_requests",
        "kube_pod_container_resource_limits",
        "kube_pod_status_ready",
        "kube_pod_status_ready_time",
        "kube_pod_status_phase",
        "kube_pod_start_time",
        "kube_pod_deletion_timestamp",
        "kube_pod_labels",
        "kube_pod_container_info",
        "kube_pod_info",
        "kube_pod_container_status_restarts_total",
        "kube_deployment_spec_replicas",
        "kube_deployment_status_replicas",
        "kube_deployment_status_replicas_available",
        "kube_statefulset_replicas",
        "kube_statefulset_status_replicas_ready",
        "kube_node_status_allocatable",
    ),
)
CADVISOR = Catalog(
    "cadvisor",
    "google/cadvisor docs/storage/prometheus.md (the kubelet's /metrics/cadvisor, kube-prometheus-stack)",
    (
        "container_cpu_usage_seconds_total",
        "container_memory_working_set_bytes",
        "container_memory_rss",
        "container_cpu_cfs_periods_total",
        "container_cpu_cfs_throttled_periods_total",
        "container_network_receive_bytes_total",
        "container_network_transmit_bytes_total",
    ),
)
# CloudNativePG's instance manager: config/manager/default-monitoring.yaml, prefixed `cnpg_`; our
# PodMonitor adds `role` (primary/replica) from the pod label cnpg.io/instanceRole.
CLOUDNATIVE_PG = Catalog(
    "cloudnative-pg",
    "cloudnative-pg/cloudnative-pg config/manager/default-monitoring.yaml",
    (
        "cnpg_collector_up",
        "cnpg_backends_total",
        "cnpg_backends_waiting_total",
        "cnpg_pg_database_size_bytes",
        "cnpg_pg_replication_lag",
        "cnpg_pg_replication_in_recovery",
        "cnpg_pg_replication_streaming_replicas",
        *(
            f"cnpg_pg_stat_database_{column}"
            for column in (
                "xact_commit",
                "xact_rollback",
                "blks_read",
                "blks_hit",
                "tup_returned",
                "tup_fetched",
                "conflicts",
                "deadlocks",
            )
        ),
    ),
)
POSTGRES_EXPORTER = Catalog(
    "postgres-exporter",
    "prometheus-community/postgres_exporter cmd/postgres_exporter/postgres_exporter.go (builtinMetricMaps)",
    (
        "pg_up",
        "pg_stat_database_xact_commit",
        "pg_stat_database_xact_rollback",
        "pg_stat_database_tup_returned",
        "pg_stat_database_tup_fetched",
        "pg_stat_database_numbackends",
        "pg_stat_database_blks_hit",
        "pg_stat_database_blks_read",
        "pg_stat_database_conflicts",
        "pg_stat_database_deadlocks",
        "pg_stat_activity_count",
        "pg_locks_count",
        "pg_settings_max_connections",
    ),
)
REDIS_EXPORTER = Catalog(
    "redis-exporter",
    "oliver006/redis_exporter exporter/exporter.go (metricMapGauges, key checks)",
    (
        "redis_up",
        "redis_key_size",  # --check-single-keys: a list's LLEN, e.g. a Celery queue; 0 when absent
        "redis_connected_clients",
        "redis_memory_used_bytes",
        "redis_commands_processed_total",
        "redis_commands_total",  # per command (`cmd`, from INFO commandstats): lpush is Celery's publish
        "redis_db_keys",
        "redis_connected_slaves",
        "redis_keyspace_hits_total",
        "redis_keyspace_misses_total",
    ),
)

# scaleplane.queues (the operator image), deployed by the stacks beside the broker.
QUEUE_EXPORTER = Catalog(
    "queue-exporter",
    "scaleplane src/scaleplane/queues/watching.py (the project's own, from keyspace notifications)",
    (
        "scaleplane_queue_enqueued_total",
        "scaleplane_queue_dequeued_total",
        "scaleplane_queue_oldest_age_seconds",
        "scaleplane_queue_depth",
        "scaleplane_queue_watch_up",
    ),
)


def workers_query(platform: config.PlatformConfig) -> str:
    """The Celery backlog: the queue's Redis list length. `max`, not `sum`: on Kubernetes every Redis
    pod (master and replicas) has an exporter, and each replica holds a copy of the same list."""
    return f'max(redis_key_size{{key="{platform.operator.workers.queue}"}})'


def read_replicas_query(platform: config.PlatformConfig) -> str:
    """Committed transactions per second on the replicas, summed (one series per replica and database).

    Aurora is the exception: its one postgres_exporter connects through the cluster's reader endpoint,
    so it reads the counters of whichever reader that connection landed on, one reader's share of the
    load. Summing would under-read by the number of readers; the policy reads that one reader's rate
    as the per-reader average instead, with a `Value` target (`read_replicas_target_type`).
    """
    series = "cnpg_pg_stat_database_xact_commit" if platform.target == "kubernetes" else POSTGRES_SERIES
    database = database_name(platform)
    aggregate = "avg" if _aurora(platform) else "sum"
    return f'{aggregate}(rate({series}{{role="replica",datname="{database}"}}[2m]))'


def read_replicas_target_type(platform: config.PlatformConfig) -> str:
    """`AverageValue` over the summed load (ceil(load / target) replicas), or on Aurora `Value` over one
    reader's load (the ready readers times load / target, as the HPA does for a per-pod metric)."""
    return "Value" if _aurora(platform) else "AverageValue"


def _aurora(platform: config.PlatformConfig) -> bool:
    return platform.target == "aws" and platform.database.engine == "aurora-postgresql"


POSTGRES_SERIES = "pg_stat_database_xact_commit"


def database_name(platform: config.PlatformConfig) -> str:
    """The application database: CloudNativePG's initdb database (`app`), RDS's db_name (no dashes)."""
    return "app" if platform.target == "kubernetes" else platform.database.name.replace("-", "_")


def for_target(platform: config.PlatformConfig) -> tuple[Catalog, ...]:
    """The exporters a stack of this target deploys (only with monitoring on: they need its CRDs)."""
    if not platform.monitoring.enabled:
        return ()
    database = CLOUDNATIVE_PG if platform.target == "kubernetes" else POSTGRES_EXPORTER
    queues = (QUEUE_EXPORTER,) if platform.operator.enabled else ()
    return (KUBE_STATE_METRICS, CADVISOR, database, REDIS_EXPORTER, *queues)
