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
                          primary, the stack's replicas, the operator's)
    CreateReplicas        CreateDBInstanceReadReplica of the primary, into `db:<primary>-sp-*` only
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


def policy_document(primary_arn: str, database_prefix: str) -> str:
    """The role's inline policy for the primary at `primary_arn`; `database_prefix` names every
    instance of this database (`<component name>-`)."""
    base = ":".join(primary_arn.split(":")[:5])  # arn:aws:rds:<region>:<account>
    primary_id = primary_arn.rsplit(":", 1)[-1]
    ours = f"{base}:db:{primary_id}{REPLICA_INFIX}*"
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "ReadTheDatabase",
                    "Effect": "Allow",
                    "Action": ["rds:DescribeDBInstances", "rds:ListTagsForResource"],
                    "Resource": [f"{base}:db:{database_prefix}*"],
                },
                {
                    "Sid": "CreateReplicas",
                    "Effect": "Allow",
                    "Action": ["rds:CreateDBInstanceReadReplica"],
                    "Resource": [f"{base}:db:{primary_id}", ours],
                },
                {
                    # Tags on the new replica only (never on the primary: its scaleplane.io/namespace
                    # tag is what gives it to a namespace), and only with the ownership tag.
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
            ],
        }
    )


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
    primary: Any,
) -> Any:
    """The role, its policy and the association to the operator's ServiceAccount. Returns the role."""
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
        policy=primary.arn.apply(lambda arn: policy_document(arn, f"{name}-")),
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
