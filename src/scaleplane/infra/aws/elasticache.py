"""ElastiCache Redis: a replication group that passes AWS Security Hub's ElastiCache.1 to .7.

1 automatic backups (snapshot retention), 2 automatic minor version upgrades, 3 automatic failover,
4 encryption at rest, 5 encryption in transit, 6 AUTH (a generated token, kept in Secrets Manager for
the applications), 7 its own subnet group (never the default one). Each switch can be turned off in
stack config; the guardrails then fail the stack unless the rule is waived.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from scaleplane.infra import backends, config
from scaleplane.infra.aws import network as networking

PORT = 6379


def build(
    parent: pulumi.Resource, name: str, platform: config.PlatformConfig, cluster: backends.ClusterHandle
) -> backends.CacheHandle:
    settings = platform.cache
    network: networking.Network = cluster.details
    tags = platform.resource_tags
    subnets = aws.elasticache.SubnetGroup(
        f"{name}-subnets",
        name=f"{name}-subnets",
        description=f"{name}: private subnets",
        subnet_ids=network.private_subnet_ids,
        tags=tags,
        opts=backends.child(parent),
    )
    group = networking.security_group(parent, name, network, PORT, tags, "Redis")
    token: pulumi.Output[str] | None = None
    if settings.auth:
        # ElastiCache refuses some punctuation in AUTH tokens; letters and digits at this length suffice.
        password = random.RandomPassword(
            f"{name}-auth", length=48, special=False, opts=backends.child(parent)
        )
        token = pulumi.Output.secret(password.result)
        secret = aws.secretsmanager.Secret(
            f"{name}-auth", description=f"{name}: Redis AUTH token", tags=tags, opts=backends.child(parent)
        )
        aws.secretsmanager.SecretVersion(
            f"{name}-auth", secret_id=secret.id, secret_string=token, opts=backends.child(parent)
        )
    # The queue exporter (scaleplane.queues) counts pushes and pops from keyspace notifications, which
    # ElastiCache lets only a parameter group turn on (CONFIG SET is refused): K keyspace, l list commands.
    parameters = aws.elasticache.ParameterGroup(
        f"{name}-redis-params",
        family=f"redis{settings.engine_version.split('.')[0]}",
        description=f"{name}: keyspace notifications for the queue exporter",
        parameters=[{"name": "notify-keyspace-events", "value": "Kl"}],
        tags=tags,
        opts=backends.child(parent),
    )
    nodes = 1 + settings.replicas
    replication_group = aws.elasticache.ReplicationGroup(
        f"{name}-redis",
        description=f"{name}: Redis for the platform",
        engine="redis",
        engine_version=settings.engine_version,
        node_type=settings.node_type,
        port=PORT,
        num_cache_clusters=nodes,
        preferred_cache_cluster_azs=[network.zones[index % len(network.zones)] for index in range(nodes)],
        automatic_failover_enabled=settings.automatic_failover,
        multi_az_enabled=settings.automatic_failover and platform.production,
        at_rest_encryption_enabled=settings.at_rest_encryption,
        transit_encryption_enabled=settings.transit_encryption,
        auth_token=token,
        subnet_group_name=subnets.name,
        parameter_group_name=parameters.name,
        security_group_ids=[group.id],
        snapshot_retention_limit=settings.snapshot_retention_days,
        snapshot_window="02:00-03:00",
        maintenance_window="sun:05:30-sun:06:30",
        auto_minor_version_upgrade=settings.auto_minor_version_upgrade,
        tags=tags,
        opts=backends.child(parent),
    )
    return backends.CacheHandle(
        primary_endpoint=replication_group.primary_endpoint_address,
        reader_endpoint=replication_group.reader_endpoint_address,
        port=PORT,
        auth_token=token,
    )
