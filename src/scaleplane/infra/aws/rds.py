"""RDS PostgreSQL: one primary and N read replicas spread over the VPC's AZs.

The replicas go round-robin over the zones starting at the one after the primary's, so with three
zones and two replicas every zone holds one database: an AZ outage leaves readers elsewhere.

Encrypted with a customer-managed KMS key (replicas inherit it), never publicly reachable, reachable
from inside the VPC only, TLS forced by the parameter group. The master password lives in Secrets
Manager (`manage_master_user_password`), never in the Pulumi state. Production turns on Multi-AZ,
deletion protection and a final snapshot unless the stack says otherwise.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from scaleplane.infra import backends, config
from scaleplane.infra.aws import network as networking
from scaleplane.infra.aws import operator_access

PORT = 5432
# The operator scales the replicas of a source only if the source is given to the policy's namespace
# (scaleplane.targets.rds); the read-replica ScalingPolicy lives in the operator's namespace on AWS.
NAMESPACE_TAG = "scaleplane.io/namespace"

# Replica-friendly settings: long analytics reads on a replica are not cancelled by vacuum on the
# primary (hot_standby_feedback) and a replica may lag up to 30 s applying WAL before it cancels them.
PARAMETERS = {
    "rds.force_ssl": "1",
    "hot_standby_feedback": "1",
    "max_standby_streaming_delay": "30000",
    "max_standby_archive_delay": "30000",
    "log_min_duration_statement": "1000",
}


def build(
    parent: pulumi.Resource, name: str, platform: config.PlatformConfig, cluster: backends.ClusterHandle
) -> backends.DatabaseHandle:
    settings = platform.database
    network: networking.Network = cluster.details
    tags = platform.resource_tags
    multi_az = platform.production if settings.multi_az is None else settings.multi_az
    protected = platform.production if settings.deletion_protection is None else settings.deletion_protection
    key, subnets, group = storage_and_network(parent, name, network, tags, "RDS")
    major = settings.engine_version.split(".")[0]
    parameters = aws.rds.ParameterGroup(
        f"{name}-params",
        family=f"postgres{major}",
        parameters=[
            {"name": key_, "value": value, "apply_method": "pending-reboot"}
            for key_, value in PARAMETERS.items()
        ],
        tags=tags,
        opts=backends.child(parent),
    )
    common = {
        "instance_class": settings.instance_class,
        "storage_encrypted": settings.storage_encrypted,
        "kms_key_id": key.arn if settings.storage_encrypted else None,
        "publicly_accessible": settings.publicly_accessible,
        "vpc_security_group_ids": [group.id],
        "parameter_group_name": parameters.name,
        "deletion_protection": protected,
        "auto_minor_version_upgrade": True,
        "performance_insights_enabled": True,
        "copy_tags_to_snapshot": True,
        "tags": tags,
    }
    primary = aws.rds.Instance(
        f"{name}-primary",
        identifier=f"{name}-primary",
        engine="postgres",
        engine_version=settings.engine_version,
        allocated_storage=settings.allocated_storage_gib,
        max_allocated_storage=settings.max_allocated_storage_gib,
        storage_type="gp3",
        db_name=settings.name.replace("-", "_"),
        username="scaleplane",
        manage_master_user_password=True,
        db_subnet_group_name=subnets.name,
        multi_az=multi_az,
        availability_zone=None if multi_az else network.zones[0],
        backup_retention_period=settings.backup_retention_days,
        backup_window="03:00-04:00",
        maintenance_window="sun:04:30-sun:05:30",
        skip_final_snapshot=not protected,
        final_snapshot_identifier=f"{name}-primary-final" if protected else None,
        opts=backends.child(parent),
        **{**common, "tags": {**tags, NAMESPACE_TAG: platform.operator.namespace}},
    )
    replicas = [
        aws.rds.Instance(
            f"{name}-replica-{index + 1}",
            identifier=f"{name}-replica-{index + 1}",
            replicate_source_db=primary.identifier,
            availability_zone=network.zones[(index + 1) % len(network.zones)],
            skip_final_snapshot=True,
            opts=backends.child(parent),
            **common,
        )
        for index in range(settings.read_replicas)
    ]
    if platform.operator.enabled:  # the identity that lets the operator scale these replicas
        operator_access.build(parent, name, platform, cluster, primary)
    return backends.DatabaseHandle(
        writer_endpoint=primary.address,
        read_endpoints=[replica.address for replica in replicas],
        port=PORT,
        replica_target={
            "apiVersion": "scaleplane.io/v1alpha1",
            "kind": "RDSReadReplicas",
            "name": f"{name}-primary",
        },
        depends_on=[primary, *replicas],
        operator_env=operator_access.operator_env(),
    )


def storage_and_network(
    parent: pulumi.Resource, name: str, network: networking.Network, tags: dict[str, str], engine: str
) -> tuple[aws.kms.Key, aws.rds.SubnetGroup, aws.ec2.SecurityGroup]:
    """What RDS and Aurora share: a rotated customer-managed storage key, a subnet group on the private
    subnets, and a security group open to the VPC on the PostgreSQL port."""
    key = aws.kms.Key(
        f"{name}-storage",
        description=f"{name}: {engine} storage encryption",
        enable_key_rotation=True,
        tags=tags,
        opts=backends.child(parent),
    )
    subnets = aws.rds.SubnetGroup(
        f"{name}-subnets", subnet_ids=network.private_subnet_ids, tags=tags, opts=backends.child(parent)
    )
    group = networking.security_group(parent, name, network, PORT, tags, "PostgreSQL")
    return key, subnets, group
