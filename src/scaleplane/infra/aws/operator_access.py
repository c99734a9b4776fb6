"""The operator's AWS identity: an IAM role for its ServiceAccount through EKS Pod Identity.

Why Pod Identity and not IRSA: IRSA needs an IAM OIDC provider per cluster (its issuer URL and TLS
thumbprint, one more trust to keep) and a role annotation on the ServiceAccount; Pod Identity needs
the `eks-pod-identity-agent` add-on (eks.py installs it) and one PodIdentityAssociation, and leaves
the operator's manifests (operator/rbac.yaml) unchanged. The role's trust names the one
ServiceAccount in the one namespace, through the session tags Pod Identity sets. boto3 finds the
credentials by itself (AWS_CONTAINER_CREDENTIALS_FULL_URI, which the agent injects).

Least privilege, per statement (POLICY_STATEMENTS names them, the guardrail iam.least-privilege
checks the shape):

    ReadTheDatabase       Describe/ListTags on this database's instances only (`db:<name>-*`:
                          primary, the stack's replicas, the operator's); Aurora: also
                          DescribeDBClusters/ListTags on the one cluster (its members and tags)
    CreateReplicas        CreateDBInstanceReadReplica of the primary (Aurora: CreateDBInstance into
                          the cluster), into `db:<source>-sp-*` only
    TagOwnReplicas        AddTagsToResource on `db:<primary>-sp-*` only, with the tag
                          scaleplane.io/managed-by=scaleplane on the request (never on the primary)
    DeleteOwnReplicas     DeleteDBInstance of `db:<primary>-sp-*` carrying that tag: IAM itself refuses
                          to delete a replica the operator did not make
    ReadReplicaLag        cloudwatch:GetMetricData, which has no resource-level permissions ("*")
"""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_aws as aws

from scaleplane.infra import backends, config

SERVICE_ACCOUNT = "scaleplane-operator"  # operator/rbac.yaml
MANAGED_TAG = "scaleplane.io/managed-by"  # scaleplane.targets.rds.MANAGED_TAG
REPLICA_INFIX = "-sp-"  # scaleplane.targets.rds names its replicas <source>-sp-<suffix>
POLICY_STATEMENTS = (
    "ReadTheDatabase",
    "CreateReplicas",
    "TagOwnReplicas",
    "DeleteOwnReplicas",
    "ReadReplicaLag",
)


def policy_document(source_arn: str, database_prefix: str, *, aurora: bool = False) -> str:
    """The role's inline policy for the RDS primary (or, with `aurora`, the Aurora cluster) at
    `source_arn`; `database_prefix` names every instance of this database (`<component name>-`)."""
    base = ":".join(source_arn.split(":")[:5])  # arn:aws:rds:<region>:<account>
    source_id = source_arn.rsplit(":", 1)[-1]
    ours = f"{base}:db:{source_id}{REPLICA_INFIX}*"
    source = f"{base}:cluster:{source_id}" if aurora else f"{base}:db:{source_id}"
    read = [
        "rds:DescribeDBInstances",
        "rds:ListTagsForResource",
        *(["rds:DescribeDBClusters"] if aurora else []),
    ]
    statements: list[dict[str, Any]] = [
        {
            "Sid": "ReadTheDatabase",
            "Effect": "Allow",
            "Action": read,
            "Resource": [f"{base}:db:{database_prefix}*", *([source] if aurora else [])],
        },
        {
            # RDS: a replica of the primary; Aurora: an instance into the cluster. Into our names only.
            "Sid": "CreateReplicas",
            "Effect": "Allow",
            "Action": ["rds:CreateDBInstance" if aurora else "rds:CreateDBInstanceReadReplica"],
            "Resource": [source, ours],
        },
        {
            # Tags on the new replica only (never on the source: its scaleplane.io/namespace tag is
            # what gives it to a namespace), and only with the ownership tag.
            "Sid": "TagOwnReplicas",
            "Effect": "Allow",
            "Action": ["rds:AddTagsToResource"],
            "Resource": [ours],
            "Condition": {"StringEquals": {f"aws:RequestTag/{MANAGED_TAG}": "scaleplane"}},
        },
        {
            "Sid": "DeleteOwnReplicas",
            "Effect": "Allow",
            "Action": ["rds:DeleteDBInstance"],
            "Resource": [ours],
            "Condition": {"StringEquals": {f"aws:ResourceTag/{MANAGED_TAG}": "scaleplane"}},
        },
        {
            "Sid": "ReadReplicaLag",
            "Effect": "Allow",
            "Action": ["cloudwatch:GetMetricData"],
            "Resource": ["*"],
        },
    ]
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def operator_env() -> dict[str, str]:
    """Pod Identity hands the pod credentials, not a region: the operator is told the stack's."""
    return {"SCALEPLANE_AWS_REGION": aws.config.region or "us-east-1"}


def trust_document(namespace: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "pods.eks.amazonaws.com"},
                    "Action": ["sts:AssumeRole", "sts:TagSession"],
                    "Condition": {
                        "StringEquals": {
                            "aws:RequestTag/kubernetes-namespace": namespace,
                            "aws:RequestTag/kubernetes-service-account": SERVICE_ACCOUNT,
                        }
                    },
                }
            ],
        }
    )


def build(
    parent: pulumi.Resource,
    name: str,
    platform: config.PlatformConfig,
    cluster: backends.ClusterHandle,
    source: Any,
    *,
    aurora: bool = False,
) -> Any:
    """The role, its policy and the association to the operator's ServiceAccount. Returns the role.
    `source`: the RDS primary (aws.rds.Instance) or, with `aurora`, the aws.rds.Cluster."""
    namespace = platform.operator.namespace
    role = aws.iam.Role(
        f"{name}-operator",
        description=f"{name}: the scaleplane operator scales this database's read replicas",
        assume_role_policy=trust_document(namespace),
        max_session_duration=3600,
        tags=platform.resource_tags,
        opts=backends.child(parent),
    )
    aws.iam.RolePolicy(
        f"{name}-operator-replicas",
        role=role.id,
        policy=source.arn.apply(lambda arn: policy_document(arn, f"{name}-", aurora=aurora)),
        opts=backends.child(parent),
    )
    aws.eks.PodIdentityAssociation(
        f"{name}-operator-identity",
        cluster_name=cluster.name,
        namespace=namespace,
        service_account=SERVICE_ACCOUNT,
        role_arn=role.arn,
        tags=platform.resource_tags,
        opts=backends.child(parent),
    )
    return role
