"""EKS from plain pulumi_aws resources (not the pulumi_eks remote component).

Plain resources stay visible under Pulumi's mocks, so the offline plan and the guardrails see the
control plane's endpoint settings, its KMS envelope encryption and its log types, not one opaque box.

Secure by default: the API endpoint is private (reachable from inside the VPC only) unless the stack
opens it to named CIDRs; Kubernetes Secrets are envelope-encrypted with a customer-managed KMS key;
every control-plane log type goes to CloudWatch.
"""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from scaleplane.infra import backends, config
from scaleplane.infra.aws import network as networking

NODE_POLICIES = ("AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy", "AmazonEC2ContainerRegistryReadOnly")


def _assume_role(service: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}],
        }
    )


def _role(
    parent: pulumi.Resource, name: str, service: str, policies: tuple[str, ...], tags: dict[str, str]
) -> Any:
    role = aws.iam.Role(
        name, assume_role_policy=_assume_role(service), tags=tags, opts=backends.child(parent)
    )
    attachments = [
        aws.iam.RolePolicyAttachment(
            f"{name}-{policy.lower().replace('_', '-')}",
            role=role.name,
            policy_arn=f"arn:aws:iam::aws:policy/{policy}",
            opts=backends.child(parent),
        )
        for policy in policies
    ]
    return role, attachments


def build(parent: pulumi.Resource, name: str, platform: config.PlatformConfig) -> backends.ClusterHandle:
    settings = platform.cluster
    tags = platform.resource_tags
    network = networking.build(parent, name, platform)
    key = aws.kms.Key(
        f"{name}-secrets",
        description=f"{name}: envelope encryption of Kubernetes Secrets",
        enable_key_rotation=True,
        deletion_window_in_days=30,
        tags=tags,
        opts=backends.child(parent),
    )
    cluster_role, cluster_attachments = _role(
        parent, f"{name}-cluster-role", "eks.amazonaws.com", ("AmazonEKSClusterPolicy",), tags
    )
    # EKS writes to exactly this group name; creating it first lets us own its retention.
    logs = aws.cloudwatch.LogGroup(
        f"{name}-control-plane",
        name=f"/aws/eks/{name}/cluster",
        retention_in_days=settings.log_retention_days,
        tags=tags,
        opts=backends.child(parent),
    )
    vpc_config: dict[str, Any] = {
        "subnet_ids": network.private_subnet_ids,
        "endpoint_private_access": True,
        "endpoint_public_access": settings.endpoint_public_access,
    }
    if settings.endpoint_public_access:
        vpc_config["public_access_cidrs"] = list(settings.public_access_cidrs)
    cluster = aws.eks.Cluster(
        name,
        name=name,
        version=settings.version,
        role_arn=cluster_role.arn,
        vpc_config=vpc_config,
        encryption_config={"provider": {"key_arn": key.arn}, "resources": ["secrets"]},
        enabled_cluster_log_types=list(settings.log_types),
        access_config={"authentication_mode": "API_AND_CONFIG_MAP"},
        tags=tags,
        opts=backends.child(parent, depends_on=[logs, *cluster_attachments]),
    )
    node_role, node_attachments = _role(parent, f"{name}-node-role", "ec2.amazonaws.com", NODE_POLICIES, tags)
    for group in settings.node_groups:
        aws.eks.NodeGroup(
            f"{name}-{group.name}",
            cluster_name=cluster.name,
            node_role_arn=node_role.arn,
            subnet_ids=network.private_subnet_ids,
            instance_types=list(group.instance_types),
            disk_size=group.disk_size_gib,
            scaling_config={
                "min_size": group.min_size,
                "desired_size": group.desired_size,
                "max_size": group.max_size,
            },
            update_config={"max_unavailable": 1},
            labels={"scaleplane.io/node-group": group.name},
            tags=tags,
            opts=backends.child(parent, depends_on=node_attachments),
        )
    # EKS Pod Identity: how the operator's ServiceAccount gets its AWS role (aws/operator_access.py).
    aws.eks.Addon(
        f"{name}-pod-identity-agent",
        cluster_name=cluster.name,
        addon_name="eks-pod-identity-agent",
        tags=tags,
        opts=backends.child(parent, depends_on=node_attachments),
    )
    rendered: pulumi.Output[str] = pulumi.Output.all(
        cluster.name, cluster.endpoint, cluster.certificate_authority
    ).apply(_kubeconfig_from)
    kubeconfig: pulumi.Output[str] = pulumi.Output.secret(rendered)
    provider = k8s.Provider(f"{name}-k8s", kubeconfig=kubeconfig, opts=backends.child(parent))
    return backends.ClusterHandle(
        name=cluster.name,
        kubeconfig=kubeconfig,
        provider=provider,
        endpoint=cluster.endpoint,
        details=network,
    )


def _kubeconfig_from(values: list[Any]) -> str:
    name, endpoint, certificate_authority = values
    return _kubeconfig(name, endpoint, (certificate_authority or {}).get("data", ""))


def _kubeconfig(cluster_name: str, endpoint: str, certificate_authority: str) -> str:
    """A kubeconfig that gets its token from `aws eks get-token`: no credential is stored in it."""
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": cluster_name,
                    "cluster": {"server": endpoint, "certificate-authority-data": certificate_authority},
                }
            ],
            "contexts": [{"name": cluster_name, "context": {"cluster": cluster_name, "user": cluster_name}}],
            "current-context": cluster_name,
            "users": [
                {
                    "name": cluster_name,
                    "user": {
                        "exec": {
                            "apiVersion": "client.authentication.k8s.io/v1beta1",
                            "command": "aws",
                            "args": ["eks", "get-token", "--cluster-name", cluster_name],
                        }
                    },
                }
            ],
        }
    )
