"""The VPC every AWS part of the platform lives in: three AZs, private subnets for the workloads.

Layout of the VPC's CIDR (a /16 by default), cut into /20 blocks: blocks 0-2 are the private subnets
(one per AZ: nodes, RDS, ElastiCache), blocks 8-10 the public ones (NAT gateways and internet-facing
load balancers only). Production gets one NAT gateway per AZ so losing an AZ does not cut the others'
egress; other environments share one to save its hourly price.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from scaleplane.infra import backends, config

ZONE_COUNT = 3
PUBLIC_BLOCK_OFFSET = 8


@dataclass(frozen=True)
class Network:
    vpc: aws.ec2.Vpc
    cidr: str
    zones: list[str]
    private_subnets: list[aws.ec2.Subnet]
    public_subnets: list[aws.ec2.Subnet]

    @property
    def private_subnet_ids(self) -> list[pulumi.Output[str]]:
        return [subnet.id for subnet in self.private_subnets]


def zones_for(cluster: config.ClusterConfig) -> list[str]:
    if cluster.availability_zones:
        zones = list(cluster.availability_zones)
    else:
        zones = list(aws.get_availability_zones(state="available").names[:ZONE_COUNT])
    if len(zones) < ZONE_COUNT:
        raise config.ConfigError(
            [f"{config.NAMESPACE}:cluster.availabilityZones: needs {ZONE_COUNT} zones, was {zones!r}"]
        )
    return zones[:ZONE_COUNT]


def build(parent: pulumi.Resource, name: str, platform: config.PlatformConfig) -> Network:
    cluster = platform.cluster
    tags = platform.resource_tags
    zones = zones_for(cluster)
    try:
        blocks = list(ipaddress.ip_network(cluster.vpc_cidr).subnets(new_prefix=20))
    except ValueError as exc:
        raise config.ConfigError(
            [f"{config.NAMESPACE}:cluster.vpcCidr: {exc}, was {cluster.vpc_cidr!r}"]
        ) from None
    if len(blocks) < PUBLIC_BLOCK_OFFSET + ZONE_COUNT:
        raise config.ConfigError(
            [f"{config.NAMESPACE}:cluster.vpcCidr: must be /16 .. /17, was {cluster.vpc_cidr!r}"]
        )
    vpc = aws.ec2.Vpc(
        f"{name}-vpc",
        cidr_block=cluster.vpc_cidr,
        enable_dns_hostnames=True,
        enable_dns_support=True,
        tags={**tags, "Name": f"{name}-vpc"},
        opts=backends.child(parent),
    )
    gateway = aws.ec2.InternetGateway(
        f"{name}-igw", vpc_id=vpc.id, tags={**tags, "Name": f"{name}-igw"}, opts=backends.child(parent)
    )
    public_routes = aws.ec2.RouteTable(
        f"{name}-public",
        vpc_id=vpc.id,
        routes=[{"cidr_block": "0.0.0.0/0", "gateway_id": gateway.id}],
        tags={**tags, "Name": f"{name}-public"},
        opts=backends.child(parent),
    )
    public, private = [], []
    nat_ids: list[pulumi.Output[str]] = []
    for index, zone in enumerate(zones):
        public_subnet = aws.ec2.Subnet(
            f"{name}-public-{zone}",
            vpc_id=vpc.id,
            cidr_block=str(blocks[PUBLIC_BLOCK_OFFSET + index]),
            availability_zone=zone,
            map_public_ip_on_launch=False,
            tags={**tags, "Name": f"{name}-public-{zone}", "kubernetes.io/role/elb": "1"},
            opts=backends.child(parent),
        )
        aws.ec2.RouteTableAssociation(
            f"{name}-public-{zone}",
            subnet_id=public_subnet.id,
            route_table_id=public_routes.id,
            opts=backends.child(parent),
        )
        public.append(public_subnet)
        if platform.production or index == 0:
            address = aws.ec2.Eip(
                f"{name}-nat-{zone}",
                domain="vpc",
                tags={**tags, "Name": f"{name}-nat-{zone}"},
                opts=backends.child(parent),
            )
            nat = aws.ec2.NatGateway(
                f"{name}-nat-{zone}",
                allocation_id=address.id,
                subnet_id=public_subnet.id,
                tags={**tags, "Name": f"{name}-nat-{zone}"},
                opts=backends.child(parent, depends_on=[gateway]),
            )
            nat_ids.append(nat.id)
        private_subnet = aws.ec2.Subnet(
            f"{name}-private-{zone}",
            vpc_id=vpc.id,
            cidr_block=str(blocks[index]),
            availability_zone=zone,
            tags={**tags, "Name": f"{name}-private-{zone}", "kubernetes.io/role/internal-elb": "1"},
            opts=backends.child(parent),
        )
        private_routes = aws.ec2.RouteTable(
            f"{name}-private-{zone}",
            vpc_id=vpc.id,
            routes=[{"cidr_block": "0.0.0.0/0", "nat_gateway_id": nat_ids[-1]}],
            tags={**tags, "Name": f"{name}-private-{zone}"},
            opts=backends.child(parent),
        )
        aws.ec2.RouteTableAssociation(
            f"{name}-private-{zone}",
            subnet_id=private_subnet.id,
            route_table_id=private_routes.id,
            opts=backends.child(parent),
        )
        private.append(private_subnet)
    return Network(
        vpc=vpc, cidr=cluster.vpc_cidr, zones=zones, private_subnets=private, public_subnets=public
    )


def security_group(
    parent: pulumi.Resource, name: str, network: Network, port: int, tags: dict[str, str], purpose: str
) -> aws.ec2.SecurityGroup:
    """A group that lets only the VPC itself reach `port`: data stores are never opened wider."""
    return aws.ec2.SecurityGroup(
        f"{name}-sg",
        description=f"{purpose}: port {port} from inside the VPC only",
        vpc_id=network.vpc.id,
        ingress=[{"protocol": "tcp", "from_port": port, "to_port": port, "cidr_blocks": [network.cidr]}],
        egress=[{"protocol": "-1", "from_port": 0, "to_port": 0, "cidr_blocks": [network.cidr]}],
        tags={**tags, "Name": f"{name}-sg"},
        opts=backends.child(parent),
    )
