"""The operator's AWS identity as aws-prod plans it: EKS Pod Identity for its ServiceAccount, and a
policy that reaches this database's instances only and deletes only the replicas the operator made."""

from __future__ import annotations

import json

from scaleplane.guardrails import catalog, running
from scaleplane.guardrails import rules as guard_rules
from scaleplane.infra import mocking
from tests.support import planned_stacks


def test_the_operator_gets_a_pod_identity_role_scoped_to_the_platforms_database() -> None:
    plan = planned_stacks.planned("aws-prod")
    association = plan.named("scaleplane-prod-db-operator-identity")
    assert association.type == "aws:eks/podIdentityAssociation:PodIdentityAssociation"
    assert (association.inputs["namespace"], association.inputs["serviceAccount"]) == (
        "scaleplane-system",
        "scaleplane-operator",
    )
    assert [a.inputs["addonName"] for a in plan.by_type("aws:eks/addon:Addon")] == ["eks-pod-identity-agent"]
    role = next(r for r in plan.by_type("aws:iam/role:Role") if r.name == "scaleplane-prod-db-operator")
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]
    assert trust["Principal"] == {"Service": "pods.eks.amazonaws.com"}
    assert (
        trust["Condition"]["StringEquals"]["aws:RequestTag/kubernetes-service-account"]
        == "scaleplane-operator"
    )

    policy = json.loads(plan.named("scaleplane-prod-db-operator-replicas").inputs["policy"])
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    for sid, statement in by_sid.items():
        if sid != "ReadReplicaLag":  # GetMetricData has no resource-level permissions
            assert all(":db:scaleplane-prod-db-" in arn for arn in statement["Resource"]), statement
    assert by_sid["DeleteOwnReplicas"]["Resource"] == [
        f"arn:aws:rds:us-east-1:{mocking.ACCOUNT}:db:scaleplane-prod-db-primary-sp-*"
    ]
    assert by_sid["DeleteOwnReplicas"]["Condition"] == {
        "StringEquals": {"aws:ResourceTag/scaleplane.io/managed-by": "scaleplane"}
    }
    assert (
        by_sid["TagOwnReplicas"]["Resource"] == by_sid["DeleteOwnReplicas"]["Resource"]
    )  # never the primary

    # Pod Identity gives credentials, not a region: the operator's Deployment is told the stack's.
    deployment = next(
        r
        for r in plan.by_type("kubernetes:apps/v1:Deployment")
        if r.inputs["metadata"]["name"] == "scaleplane-operator"
    )
    env = deployment.inputs["spec"]["template"]["spec"]["containers"][0]["env"]
    assert {"name": "SCALEPLANE_AWS_REGION", "value": "us-east-1"} in env

    planned = [guard_rules.Resource(r.type, r.name, r.inputs, r.urn) for r in plan.resources]
    assert running.evaluate(planned, None, ruleset=[catalog.by_id("iam-least-privilege")]) == []


def test_the_aurora_option_plans_a_cluster_with_readers_the_operator_scales() -> None:
    from tests.cli.test_conventions import run

    overrides = {"database": {"engine": "aurora-postgresql", "readReplicas": 2}}
    plan = planned_stacks.planned("aws-prod", overrides)
    # Sorted: Pulumi registers resources as their inputs resolve, in no fixed order.
    assert sorted(r.name for r in plan.by_type("aws:rds/clusterInstance:ClusterInstance")) == [
        "scaleplane-prod-db-reader-1",
        "scaleplane-prod-db-reader-2",
        "scaleplane-prod-db-writer",
    ]
    assert not plan.by_type("aws:rds/instance:Instance")
    cluster = plan.named("scaleplane-prod-db-cluster").inputs
    assert cluster["tags"]["scaleplane.io/namespace"] == "scaleplane-system"  # given to the operator's policy
    assert cluster["storageEncrypted"] and cluster["deletionProtection"]
    assert plan.outputs["databaseReadEndpoints"] == [
        "scaleplane-prod-db-cluster.cluster-ro-mock.us-east-1.rds.amazonaws.com"
    ]
    policies = {
        p.inputs["metadata"]["name"]: p.inputs["spec"]
        for p in plan.by_type("kubernetes:scaleplane.io/v1alpha1:ScalingPolicy")
    }
    assert policies["read-replicas"]["targetRef"] == {
        "apiVersion": "scaleplane.io/v1alpha1",
        "kind": "AuroraReaders",
        "name": "scaleplane-prod-db-cluster",
    }
    # Its one exporter reads one reader (through the reader endpoint): a per-reader Value, not a sum.
    [metric] = policies["read-replicas"]["metrics"]
    assert metric["target"]["type"] == "Value" and metric["query"].startswith("avg(rate(")
    statements = json.loads(plan.named("scaleplane-prod-db-operator-replicas").inputs["policy"])["Statement"]
    create = next(s for s in statements if s["Sid"] == "CreateReplicas")
    assert create["Action"] == ["rds:CreateDBInstance"]
    base = f"arn:aws:rds:us-east-1:{mocking.ACCOUNT}"
    ours = f"{base}:db:scaleplane-prod-db-cluster-sp-*"  # targets.aurora names readers <cluster>-sp-<suffix>
    assert create["Resource"] == [f"{base}:cluster:scaleplane-prod-db-cluster", ours]
    # The cluster is read (members, tags), never tagged nor deleted; tags and deletes reach only its own.
    by_sid = {s["Sid"]: s for s in statements}
    assert "rds:DescribeDBClusters" in by_sid["ReadTheDatabase"]["Action"]
    assert by_sid["ReadTheDatabase"]["Resource"] == [
        f"{base}:db:scaleplane-prod-db-*",
        f"{base}:cluster:scaleplane-prod-db-cluster",
    ]
    for sid in ("TagOwnReplicas", "DeleteOwnReplicas"):
        assert by_sid[sid]["Resource"] == [ours], sid
    assert by_sid["DeleteOwnReplicas"]["Condition"] == {
        "StringEquals": {"aws:ResourceTag/scaleplane.io/managed-by": "scaleplane"}
    }

    stack = planned_stacks.stack_file("aws-prod", overrides)
    code, out, _ = run("check", "--stack", "aws-prod", "--config-file", str(stack))
    assert code == 0 and "0 violation(s)" in out, out
