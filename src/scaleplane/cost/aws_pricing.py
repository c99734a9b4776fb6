"""How each AWS resource type of a plan is billed: its cost components, priced from the catalog.

Each function takes one planned resource and a `Pricer` and returns its components; a missing price
makes the resource unpriced (the function raises `Unpriced` naming what is missing). Quantities are
per month of 730 hours. What is billed and why (the AWS pricing pages say the same):

- EKS: the control plane per cluster-hour. Node groups: desiredSize instances per hour (the first
  instance type, the one a managed node group launches first) plus each node's root volume (gp2, the
  managed node group default), autoscaled between minSize and maxSize.
- NAT gateway: per hour plus per GB processed (usage). Elastic IP: the public IPv4 charge per hour.
- RDS: instance hours by class and Single-/Multi-AZ, storage GB-months by type and deployment (storage
  autoscaling growth from the usage file's `storage_gb`), backup storage beyond the free amount (equal
  to the provisioned storage) from usage. A read replica is billed as a Single-AZ instance with the
  primary's storage.
- ElastiCache: node hours times the nodes of the replication group; snapshot storage from usage.
- KMS: per customer-managed key-month. Secrets Manager: per secret-month. CloudWatch Logs: GB
  ingested and GB-months stored (usage). EBS: GB-months by volume type. Load balancers: hours plus LCUs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from scaleplane.cost import catalogs, estimates, usages

HOURS = catalogs.HOURS_PER_MONTH


class Unpriced(Exception):
    """The catalog has no price for a component of the resource; the message says which."""


@dataclass(frozen=True)
class Pricer:
    region: str
    catalog: catalogs.Catalog
    usage: usages.Usage
    sources: Mapping[str, Mapping[str, Any]]  # RDS identifier -> its inputs, for replicas' storage

    def price(self, service: str, product: str) -> catalogs.Price:
        found = self.catalog.get(self.region, service, product)
        if found is None:
            raise Unpriced(f"no {service} price for {product} in {self.region}")
        return found

    def used(self, item: estimates.Item, key: str) -> float | None:
        return self.usage.get(item.type, item.name, key)


Components = list[estimates.Component]


def _c(
    name: str, unit: str, qty: float | None, price: catalogs.Price, usage_key: str = ""
) -> estimates.Component:
    return estimates.Component(name, unit, qty, price, usage_key)


def eks_cluster(item: estimates.Item, p: Pricer) -> Components:
    return [_c("EKS cluster", "hours", HOURS, p.price("AmazonEKS", "cluster"))]


def node_group(item: estimates.Item, p: Pricer) -> Components:
    types = item.inputs.get("instanceTypes") or ["t3.medium"]  # the EKS default when none is given
    nodes = float((item.inputs.get("scalingConfig") or {}).get("desiredSize", 1))
    disk = float(item.inputs.get("diskSize") or 20)
    return [
        _c(
            f"Instance usage (Linux/UNIX, on-demand, {types[0]})",
            "hours",
            nodes * HOURS,
            p.price("AmazonEC2", f"instance:{types[0]}"),
        ),
        _c("Storage (general purpose SSD, gp2)", "GB", nodes * disk, p.price("AmazonEBS", "volume:gp2")),
    ]


def nat_gateway(item: estimates.Item, p: Pricer) -> Components:
    return [
        _c("NAT gateway", "hours", HOURS, p.price("AmazonEC2", "nat-gateway")),
        _c(
            "Data processed",
            "GB",
            p.used(item, "monthly_data_processed_gb"),
            p.price("AmazonEC2", "nat-gateway-data"),
            "monthly_data_processed_gb",
        ),
    ]


def elastic_ip(item: estimates.Item, p: Pricer) -> Components:
    return [_c("Public IPv4 address", "hours", HOURS, p.price("AmazonVPC", "public-ipv4"))]


def load_balancer(item: estimates.Item, p: Pricer) -> Components:
    kind = str(item.inputs.get("loadBalancerType") or "application")
    return [
        _c(f"{kind.capitalize()} load balancer", "hours", HOURS, p.price("AWSELB", kind)),
        _c(
            "Capacity units",
            "LCU-hours",
            _times(p.used(item, "capacity_units"), HOURS),
            p.price("AWSELB", f"{kind}-lcu"),
            "capacity_units",
        ),
    ]


def rds_instance(item: estimates.Item, p: Pricer) -> Components:
    inputs = item.inputs
    source = p.sources.get(str(inputs.get("replicateSourceDb") or ""))
    replica = source is not None or bool(inputs.get("replicateSourceDb"))
    base = {**(source or {}), **inputs} if source else inputs
    engine = str(base.get("engine") or "postgres")
    klass = str(base.get("instanceClass"))
    deployment = "multi-az" if inputs.get("multiAz") is True else "single-az"
    storage_type = str(base.get("storageType") or "gp2")
    role = "read replica" if replica else "instance"
    gib = p.used(item, "storage_gb")
    gib = gib if gib is not None else float(base.get("allocatedStorage") or 0)
    parts = [
        _c(
            f"Database {role} (on-demand, {deployment}, {klass})",
            "hours",
            HOURS,
            p.price("AmazonRDS", f"{engine}:{klass}:{deployment}"),
        ),
        _c(
            f"Storage ({storage_type}, {deployment})",
            "GB",
            gib,
            p.price("AmazonRDS", f"storage:{storage_type}:{deployment}"),
        ),
    ]
    if not replica and float(inputs.get("backupRetentionPeriod") or 0) > 0:
        parts.append(
            _c(
                "Additional backup storage",
                "GB",
                p.used(item, "additional_backup_storage_gb"),
                p.price("AmazonRDS", "backup-storage"),
                "additional_backup_storage_gb",
            )
        )
    return parts


def cache_replication_group(item: estimates.Item, p: Pricer) -> Components:
    inputs = item.inputs
    node_type = str(inputs.get("nodeType"))
    nodes = inputs.get("numCacheClusters")
    if nodes is None:  # cluster mode: shards times (replicas + 1)
        nodes = float(inputs.get("numNodeGroups") or 1) * (float(inputs.get("replicasPerNodeGroup") or 0) + 1)
    parts = [
        _c(
            f"ElastiCache (on-demand, {node_type})",
            "hours",
            float(nodes) * HOURS,
            p.price("AmazonElastiCache", f"node:{node_type}"),
        )
    ]
    if float(inputs.get("snapshotRetentionLimit") or 0) > 0:
        parts.append(
            _c(
                "Backup storage",
                "GB",
                p.used(item, "snapshot_storage_size_gb"),
                p.price("AmazonElastiCache", "snapshot-storage"),
                "snapshot_storage_size_gb",
            )
        )
    return parts


def kms_key(item: estimates.Item, p: Pricer) -> Components:
    return [_c("Customer managed key", "months", 1, p.price("awskms", "key"))]


def secret(item: estimates.Item, p: Pricer) -> Components:
    return [_c("Secret", "months", 1, p.price("AWSSecretsManager", "secret"))]


def log_group(item: estimates.Item, p: Pricer) -> Components:
    return [
        _c(
            "Data ingested",
            "GB",
            p.used(item, "monthly_data_ingested_gb"),
            p.price("AmazonCloudWatch", "logs-ingestion"),
            "monthly_data_ingested_gb",
        ),
        _c(
            "Archival storage",
            "GB",
            p.used(item, "storage_gb"),
            p.price("AmazonCloudWatch", "logs-storage"),
            "storage_gb",
        ),
    ]


def ebs_volume(item: estimates.Item, p: Pricer) -> Components:
    kind = str(item.inputs.get("type") or "gp2")
    return [
        _c(
            f"Storage ({kind})",
            "GB",
            float(item.inputs.get("size") or 0),
            p.price("AmazonEBS", f"volume:{kind}"),
        )
    ]


def _times(value: float | None, factor: float) -> float | None:
    return None if value is None else value * factor


RULES: dict[str, Callable[[estimates.Item, Pricer], Components]] = {
    "aws:eks/cluster:Cluster": eks_cluster,
    "aws:eks/nodeGroup:NodeGroup": node_group,
    "aws:ec2/natGateway:NatGateway": nat_gateway,
    "aws:ec2/eip:Eip": elastic_ip,
    "aws:lb/loadBalancer:LoadBalancer": load_balancer,
    "aws:alb/loadBalancer:LoadBalancer": load_balancer,
    "aws:rds/instance:Instance": rds_instance,
    "aws:elasticache/replicationGroup:ReplicationGroup": cache_replication_group,
    "aws:kms/key:Key": kms_key,
    "aws:secretsmanager/secret:Secret": secret,
    "aws:cloudwatch/logGroup:LogGroup": log_group,
    "aws:ebs/volume:Volume": ebs_volume,
}

# Billed nothing by AWS on their own (their cost is in what they connect or configure).
FREE = frozenset(
    {
        "aws:ec2/vpc:Vpc",
        "aws:ec2/subnet:Subnet",
        "aws:ec2/routeTable:RouteTable",
        "aws:ec2/routeTableAssociation:RouteTableAssociation",
        "aws:ec2/route:Route",
        "aws:ec2/internetGateway:InternetGateway",
        "aws:ec2/securityGroup:SecurityGroup",
        "aws:ec2/securityGroupRule:SecurityGroupRule",
        "aws:iam/role:Role",
        "aws:iam/policy:Policy",
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
        "aws:iam/rolePolicy:RolePolicy",
        "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
        "aws:rds/subnetGroup:SubnetGroup",
        "aws:rds/parameterGroup:ParameterGroup",
        "aws:elasticache/subnetGroup:SubnetGroup",
        "aws:elasticache/parameterGroup:ParameterGroup",
        "aws:secretsmanager/secretVersion:SecretVersion",
        "aws:kms/alias:Alias",
        "aws:eks/addon:Addon",
        "aws:eks/accessEntry:AccessEntry",
        "aws:eks/podIdentityAssociation:PodIdentityAssociation",
    }
)
