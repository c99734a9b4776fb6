"""Aurora PostgreSQL (`scaleplane:database.engine: aurora-postgresql`): a DB cluster, its writer and
N reader instances spread over the VPC's AZs.

Same defaults as RDS (rds.py): encrypted with a customer-managed KMS key, private, reachable from
the VPC only, TLS forced (cluster parameter group), the master password in Secrets Manager, and in
production deletion protection and a final snapshot. Aurora replicates at the storage layer, so a
reader needs no source instance: the operator adds readers with `create_db_instance` into the cluster
(scaleplane.targets.aurora), and apps read through the cluster's reader endpoint, which Aurora
balances over the readers that are up.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from scaleplane.infra import backends, config
from scaleplane.infra.aws import network as networking
from scaleplane.infra.aws import operator_access, rds

ENGINE = "aurora-postgresql"


def build(
    parent: pulumi.Resource, name: str, platform: config.PlatformConfig, cluster: backends.ClusterHandle
) -> backends.DatabaseHandle:
    settings = platform.database
    network: networking.Network = cluster.details
    tags = platform.resource_tags
    protected = platform.production if settings.deletion_protection is None else settings.deletion_protection
    key, subnets, group = rds.storage_and_network(parent, name, network, tags, "Aurora")
    major = settings.engine_version.split(".")[0]
    parameters = aws.rds.ClusterParameterGroup(
        f"{name}-params",
        family=f"{ENGINE}{major}",
        parameters=[{"name": "rds.force_ssl", "value": "1", "apply_method": "pending-reboot"}],
        tags=tags,
        opts=backends.child(parent),
    )
    db_cluster = aws.rds.Cluster(
        f"{name}-cluster",
        cluster_identifier=f"{name}-cluster",
        engine=ENGINE,
        engine_version=settings.engine_version,
        database_name=settings.name.replace("-", "_"),
        master_username="scaleplane",
        manage_master_user_password=True,
        db_subnet_group_name=subnets.name,
        db_cluster_parameter_group_name=parameters.name,
        vpc_security_group_ids=[group.id],
        availability_zones=network.zones,
        storage_encrypted=settings.storage_encrypted,
        kms_key_id=key.arn if settings.storage_encrypted else None,
        backup_retention_period=max(1, settings.backup_retention_days),  # Aurora keeps at least one day
        preferred_backup_window="03:00-04:00",
        preferred_maintenance_window="sun:04:30-sun:05:30",
        deletion_protection=protected,
        skip_final_snapshot=not protected,
        final_snapshot_identifier=f"{name}-cluster-final" if protected else None,
        copy_tags_to_snapshot=True,
        tags={**tags, rds.NAMESPACE_TAG: platform.operator.namespace},
        opts=backends.child(parent),
    )
    instances = [
        aws.rds.ClusterInstance(
            f"{name}-{role}",
            identifier=f"{name}-{role}",
            cluster_identifier=db_cluster.cluster_identifier,
            engine=ENGINE,
            engine_version=settings.engine_version,
            instance_class=settings.instance_class,
            availability_zone=network.zones[index % len(network.zones)],
            publicly_accessible=settings.publicly_accessible,
            db_subnet_group_name=subnets.name,
            performance_insights_enabled=True,
            auto_minor_version_upgrade=True,
            tags=tags,
            opts=backends.child(parent),
        )
        for index, role in enumerate(["writer", *(f"reader-{n + 1}" for n in range(settings.read_replicas))])
    ]
    if platform.operator.enabled:
        operator_access.build(parent, name, platform, cluster, db_cluster, aurora=True)
    return backends.DatabaseHandle(
        writer_endpoint=db_cluster.endpoint,
        read_endpoints=[db_cluster.reader_endpoint],
        port=rds.PORT,
        replica_target={
            "apiVersion": "scaleplane.io/v1alpha1",
            "kind": "AuroraReaders",
            "name": f"{name}-cluster",
        },
        depends_on=[db_cluster, *instances],
        operator_env=operator_access.operator_env(),
    )
