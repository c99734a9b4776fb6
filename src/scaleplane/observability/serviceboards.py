"""The dashboards of what the policies scale: the database, the cache, the workers and their queues.

Series: CloudNativePG's instance exporter (`cnpg_*`, from its default monitoring queries: one series
per instance, told apart by `instance`; `cnpg_pg_replication_in_recovery` is 1 on replicas),
redis_exporter (`redis_*`, the bitnami chart's metrics sidecar), the loop's own (`scaleplane_*`), and
the queue exporter's broker-level series (`scaleplane_queue_*`: `scaleplane.queues`, which the stacks
deploy beside the broker and the local platform's exporter runs in process).
"""

from __future__ import annotations

from typing import Any

from scaleplane.observability.boards import Board, Query

P = "namespace, policy"
REPLICA_POLICIES = 'policy=~"$policy"'


def database() -> dict[str, Any]:
    board = Board(
        "scaleplane-database",
        "Scaleplane / Database",
        "PostgreSQL (CloudNativePG): each instance's replication lag, connections and load, and the read "
        "replicas a policy asked for against those running.",
    )
    board.variable("policy", "Read-replica policy", "label_values(scaleplane_desired_replicas, policy)")
    board.stat(
        "Replicas streaming",
        "Replicas connected to the primary (pg_stat_replication on the primary).",
        [Query("max(cnpg_pg_replication_streaming_replicas)")],
    )
    board.stat(
        "Max replica lag",
        "The largest replay lag of any replica.",
        [Query("max(cnpg_pg_replication_lag)")],
        unit="s",
    )
    board.stat(
        "Instances in recovery",
        "Instances running as replicas.",
        [Query("sum(cnpg_pg_replication_in_recovery)")],
    )
    board.stat(
        "Connections",
        "Client backends on all instances.",
        [Query("sum(cnpg_backends_total)")],
    )
    board.timeseries(
        "Replication lag",
        "How far each replica's replay is behind the primary (0 on the primary).",
        [Query("max by (instance) (cnpg_pg_replication_lag)", "{{instance}}")],
        unit="s",
    )
    board.timeseries(
        "Read replicas: ready vs asked",
        "What the read-replica policy asked for, what is ready, and the instances in recovery.",
        [
            Query(f"max by ({P}) (scaleplane_desired_replicas{{{REPLICA_POLICIES}}})", "{{policy}} asked"),
            Query(f"max by ({P}) (scaleplane_ready_replicas{{{REPLICA_POLICIES}}})", "{{policy}} ready"),
            Query("sum(cnpg_pg_replication_in_recovery)", "in recovery"),
        ],
    )
    board.timeseries(
        "Connections by state",
        "Client backends per instance and state (active, idle, idle in transaction...).",
        [Query("sum by (instance, state) (cnpg_backends_total)", "{{instance}} {{state}}")],
    )
    board.timeseries(
        "Read load",
        "Rows fetched per second on each instance: replicas should take the reads.",
        [
            Query(
                "sum by (instance) (rate(cnpg_pg_stat_database_tup_fetched[$__rate_interval]))",
                "{{instance}}",
            )
        ],
        unit="rowsps",
    )
    board.timeseries(
        "Write load",
        "Rows inserted, updated and deleted per second (the primary takes every write).",
        [
            Query(
                "sum by (instance) (rate(cnpg_pg_stat_database_tup_inserted[$__rate_interval])"
                " + rate(cnpg_pg_stat_database_tup_updated[$__rate_interval])"
                " + rate(cnpg_pg_stat_database_tup_deleted[$__rate_interval]))",
                "{{instance}}",
            )
        ],
        unit="rowsps",
    )
    board.timeseries(
        "Transactions",
        "Commits per second on each instance.",
        [
            Query(
                "sum by (instance) (rate(cnpg_pg_stat_database_xact_commit[$__rate_interval]))",
                "{{instance}}",
            )
        ],
        unit="ops",
    )
    return board.model()


def cache() -> dict[str, Any]:
    hits = "sum by (instance) (rate(redis_keyspace_hits_total[$__rate_interval]))"
    misses = "sum by (instance) (rate(redis_keyspace_misses_total[$__rate_interval]))"
    board = Board(
        "scaleplane-cache",
        "Scaleplane / Cache",
        "Redis (redis_exporter): hit rate against the 90 % target, memory, evictions, clients, replication.",
    )
    board.stat("Up", "1 when the exporter reaches Redis.", [Query("min(redis_up)")])
    board.stat(
        "Hit rate",
        "Lookups answered from cache over all lookups (target: over 90 %).",
        [Query(f"sum({hits}) / (sum({hits}) + sum({misses}))")],
        unit="percentunit",
    )
    board.stat("Replicas", "Replicas connected to the primary.", [Query("max(redis_connected_slaves)")])
    board.stat("Clients", "Connected clients, all instances.", [Query("sum(redis_connected_clients)")])
    board.timeseries(
        "Hit rate",
        "Per instance: hits / (hits + misses).",
        [Query(f"{hits} / ({hits} + {misses})", "{{instance}}")],
        unit="percentunit",
    )
    board.timeseries(
        "Memory",
        "Memory used, and maxmemory where one is set (0 = no limit).",
        [
            Query("max by (instance) (redis_memory_used_bytes)", "{{instance}} used"),
            Query("max by (instance) (redis_memory_max_bytes)", "{{instance}} max"),
        ],
        unit="bytes",
    )
    board.timeseries(
        "Evictions and expirations",
        "Keys evicted for memory, and keys expired, per second.",
        [
            Query(
                "sum by (instance) (rate(redis_evicted_keys_total[$__rate_interval]))", "{{instance}} evicted"
            ),
            Query(
                "sum by (instance) (rate(redis_expired_keys_total[$__rate_interval]))", "{{instance}} expired"
            ),
        ],
        unit="ops",
    )
    board.timeseries(
        "Connected clients",
        "Client connections per instance.",
        [Query("max by (instance) (redis_connected_clients)", "{{instance}}")],
    )
    board.timeseries(
        "Replication lag",
        "Seconds since each replica's last acknowledgement, as the primary sees it.",
        [
            Query(
                "max by (instance, slave_ip, slave_port) (redis_connected_slave_lag_seconds)",
                "{{slave_ip}}:{{slave_port}}",
            )
        ],
        unit="s",
    )
    board.timeseries(
        "Commands",
        "Commands processed per second.",
        [Query("sum by (instance) (rate(redis_commands_processed_total[$__rate_interval]))", "{{instance}}")],
        unit="ops",
    )
    return board.model()


def workers() -> dict[str, Any]:
    one = 'policy=~"$policy"'
    board = Board(
        "scaleplane-workers",
        "Scaleplane / Workers and queues",
        "Worker pools and the queues that drive them: the backlog each policy reads, per worker, and the "
        "workers ready against those asked for.",
    )
    board.variable("policy", "Worker policy", "label_values(scaleplane_desired_replicas, policy)")
    board.timeseries(
        "Queue depth",
        "The backlog each policy reads (its metric's value at each tick) and the target per worker.",
        [
            Query(f"max by ({P}, metric) (scaleplane_metric_value{{{one}}})", "{{policy}} {{metric}}"),
            Query(f"max by ({P}, metric) (scaleplane_metric_target{{{one}}})", "{{policy}} target"),
        ],
    )
    board.timeseries(
        "Backlog per ready worker",
        "Queue depth over the workers ready to take it.",
        [
            Query(
                f"max by ({P}) (scaleplane_metric_value{{{one}}})"
                f" / clamp_min(max by ({P}) (scaleplane_ready_replicas{{{one}}}), 1)",
                "{{policy}}",
            )
        ],
    )
    board.timeseries(
        "Workers: ready vs asked",
        "What the policy asked for, what the pool runs, and what is ready.",
        [
            Query(f"max by ({P}) (scaleplane_desired_replicas{{{one}}})", "{{policy}} asked"),
            Query(f"max by ({P}) (scaleplane_current_replicas{{{one}}})", "{{policy}} running"),
            Query(f"max by ({P}) (scaleplane_ready_replicas{{{one}}})", "{{policy}} ready"),
        ],
        width=24,
    )
    board.timeseries(
        "Age of the oldest job",
        "How long the job at the head of each queue has waited (0 when the queue is empty): the wait a "
        "new job can expect when the backlog does not shrink.",
        [Query("max by (queue) (scaleplane_queue_oldest_age_seconds)", "{{queue}}")],
        unit="s",
    )
    board.timeseries(
        "Throughput",
        "Jobs workers took from each queue per second (BRPOP), against jobs published (LPUSH), as the "
        "queue exporter counts them from the broker's keyspace notifications.",
        [
            Query(
                "max by (queue) (rate(scaleplane_queue_dequeued_total[$__rate_interval]))", "{{queue}} taken"
            ),
            Query(
                "max by (queue) (rate(scaleplane_queue_enqueued_total[$__rate_interval]))",
                "{{queue}} published",
            ),
        ],
        unit="ops",
    )
    return board.model()
