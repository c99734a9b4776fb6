"""Every rule with a compliant and a non-compliant case, as plain functions over resource inputs."""

from __future__ import annotations

import json
from typing import Any

import pytest

from scaleplane.guardrails import catalog, identities, rules, running
from scaleplane.infra.aws import operator_access

PROD = {"owner": "team", "cost-center": "cc-1", "environment": "prod"}
DEV = {**PROD, "environment": "dev"}
RDS = "aws:rds/instance:Instance"
REDIS = "aws:elasticache/replicationGroup:ReplicationGroup"
EKS = "aws:eks/cluster:Cluster"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
PDB = "kubernetes:policy/v1:PodDisruptionBudget"
POLICY = "kubernetes:scaleplane.io/v1alpha1:ScalingPolicy"


def res(type_: str, name: str = "r", **props: Any) -> rules.Resource:
    return rules.Resource(type=type_, name=name, props=props, urn=f"urn:pulumi:s::p::{type_}::{name}")


def db(**props: Any) -> rules.Resource:
    base = {
        "identifier": "db-primary",
        "publiclyAccessible": False,
        "storageEncrypted": True,
        "backupRetentionPeriod": 7,
        "multiAz": True,
        "deletionProtection": True,
        "tags": PROD,
    }
    return res(RDS, props.pop("name", "db-primary"), **{**base, **props})


def replica(source: str = "db-primary", **props: Any) -> rules.Resource:
    return db(
        name="db-replica", identifier="db-replica", replicateSourceDb=source, backupRetentionPeriod=0, **props
    )


def redis(**props: Any) -> rules.Resource:
    base = {
        "snapshotRetentionLimit": 7,
        "autoMinorVersionUpgrade": True,
        "automaticFailoverEnabled": True,
        "atRestEncryptionEnabled": True,
        "transitEncryptionEnabled": True,
        "authToken": "s3cret",
        "subnetGroupName": "cache-subnets",
        "tags": PROD,
    }
    return res(REDIS, "cache", **{**base, **props})


def eks(**props: Any) -> rules.Resource:
    base = {
        "vpcConfig": {"endpointPublicAccess": False, "endpointPrivateAccess": True},
        "encryptionConfig": {
            "resources": ["secrets"],
            "provider": {"keyArn": "arn:aws:kms:us-east-1:1:key/k"},
        },
        "enabledClusterLogTypes": ["api", "audit", "authenticator"],
        "tags": PROD,
    }
    return res(EKS, "cluster", **{**base, **props})


def deployment(
    image: str = "ghcr.io/x/app:1.2.3", requests: dict | None = None, labels: dict | None = None
) -> rules.Resource:
    container = {
        "name": "app",
        "image": image,
        "resources": {"requests": requests if requests is not None else {"cpu": "1", "memory": "1Gi"}},
    }
    pod_labels = labels or {"app": "workers"}
    return res(
        DEPLOYMENT,
        "workers",
        metadata={"name": "workers", "namespace": "default"},
        spec={"template": {"metadata": {"labels": pod_labels}, "spec": {"containers": [container]}}},
    )


def pdb(selector: dict) -> rules.Resource:
    return res(
        PDB,
        "workers-pdb",
        metadata={"name": "w", "namespace": "default"},
        spec={"selector": {"matchLabels": selector}},
    )


def policy(min_replicas: int = 1, max_replicas: int = 10, kind: str = "Deployment") -> rules.Resource:
    spec = {
        "targetRef": {"kind": kind, "name": "workers"},
        "minReplicas": min_replicas,
        "maxReplicas": max_replicas,
    }
    return res(POLICY, "workers-policy", metadata={"name": "workers", "namespace": "default"}, spec=spec)


def alert_rule(runbook: str) -> rules.Resource:
    rule = {"alert": "A", "expr": "vector(1)", "annotations": {"runbook_url": runbook}}
    return res(
        "kubernetes:monitoring.coreos.com/v1:PrometheusRule",
        spec={"groups": [{"name": "g", "rules": [rule]}]},
    )


def queue_policy(query: str) -> rules.Resource:
    metrics = [{"name": "queue", "query": query, "target": {"value": 20}}]
    return res(POLICY, "queue-policy", metadata={"name": "queue"}, spec={"metrics": metrics})


def catalog_map(series: str) -> rules.Resource:
    labels = {"scaleplane.io/exporter-catalog": "redis-exporter"}
    return res("kubernetes:core/v1:ConfigMap", metadata={"labels": labels}, data={"series": series})


def iam_policy(document: Any) -> rules.Resource:
    text = document if isinstance(document, str) else json.dumps(document)
    return res("aws:iam/rolePolicy:RolePolicy", policy=text, role="r")


# rule id -> (compliant stack, non-compliant stack, a fragment the violation must contain)
CASES: dict[str, tuple[list[rules.Resource], list[rules.Resource], str]] = {
    "rds-no-public-access": ([db()], [db(publiclyAccessible=True)], "public address"),
    "rds-storage-encrypted": ([db()], [db(storageEncrypted=False)], "storageEncrypted is False"),
    "rds-backup-retention": (
        [db(), replica()],
        [db(backupRetentionPeriod=3)],
        "3 day(s), below the minimum of 7",
    ),
    "rds-production-resilience": (
        [db(), db(multiAz=False, deletionProtection=False, tags=DEV)],
        [db(multiAz=False)],
        "multiAz is off in production",
    ),
    "rds-production-read-replicas": (
        [db(), replica(), db(name="dev-db", identifier="dev-db", tags=DEV)],
        [db(), replica(source="some-other-db")],
        "0 read replica(s) of db-primary in production, at least 1 required",
    ),
    "elasticache-backups": ([redis()], [redis(snapshotRetentionLimit=0)], "automatic backups below 1"),
    "elasticache-minor-upgrades": (
        [redis(), redis(autoMinorVersionUpgrade=None)],
        [redis(autoMinorVersionUpgrade=False)],
        "autoMinorVersionUpgrade is False",
    ),
    "elasticache-automatic-failover": (
        [redis()],
        [redis(automaticFailoverEnabled=False)],
        "manual promotion",
    ),
    "elasticache-encryption-at-rest": (
        [redis()],
        [redis(atRestEncryptionEnabled=False)],
        "stored unencrypted",
    ),
    "elasticache-encryption-in-transit": ([redis()], [redis(transitEncryptionEnabled=None)], "clear text"),
    "elasticache-auth": (
        [redis(), redis(authToken=None, userGroupIds=["g"])],
        [redis(authToken=None)],
        "neither authToken",
    ),
    "elasticache-own-subnet-group": (
        [redis()],
        [redis(subnetGroupName="default")],
        "the default subnet group",
    ),
    "eks-no-open-public-endpoint": (
        [eks(), eks(vpcConfig={"endpointPublicAccess": True, "publicAccessCidrs": ["203.0.113.0/24"]})],
        [eks(vpcConfig={})],
        "open to 0.0.0.0/0",
    ),
    "eks-secrets-encryption": ([eks()], [eks(encryptionConfig=None)], "does not envelope-encrypt"),
    "eks-control-plane-logs": (
        [eks()],
        [eks(enabledClusterLogTypes=["api"])],
        "not enabled: audit, authenticator",
    ),
    "k8s-workload-requests": ([deployment()], [deployment(requests={"cpu": "1"})], "sets no memory request"),
    "k8s-workload-pinned-image": (
        [deployment(), deployment(image="ghcr.io/x/app@sha256:abc")],
        [deployment(image="localhost:5000/app")],
        "an unpinned (`latest`) image",
    ),
    "k8s-autoscaled-pdb": (
        [policy(), deployment(labels={"app": "workers", "tier": "jobs"}), pdb({"app": "workers"})],
        [policy(), deployment(), pdb({"app": "other"})],
        "no PodDisruptionBudget selects its pods",
    ),
    "scalingpolicy-bounds": ([policy(1, 100)], [policy(5, 2)], "maxReplicas 2 is below minReplicas 5"),
    "stack-monthly-budget": (  # budget 500 USD (CONFIGS): the primary alone is 0.45 USD/h * 730 h
        [replica(instanceClass="db.t4g.medium", multiAz=False)],
        [db(instanceClass="db.r6g.large", allocatedStorage=100), replica(instanceClass="db.r6g.large")],
        "over the budget of $500.00 by $",
    ),
    # Runbook paths are relative to the project root: the tests run from it.
    "alert-runbook-exists": (
        [alert_rule("runbooks/scaleplane-policy-at-max.md")],
        [alert_rule("runbooks/never-written.md")],
        "which does not exist",
    ),
    "scalingpolicy-series-exported": (
        [queue_policy("max(redis_key_size)"), catalog_map("redis_up\nredis_key_size")],
        [queue_policy("sum(celery_queue_length)"), catalog_map("redis_key_size")],
        "metric 'queue': the query 'sum(celery_queue_length)' reads celery_queue_length",
    ),
    "iam-least-privilege": (
        [iam_policy(operator_access.policy_document("arn:aws:rds:us-east-1:1:db:app-primary", "app-"))],
        [iam_policy({"Statement": [{"Effect": "Allow", "Action": "rds:*", "Resource": "*"}]})],
        "grants the wildcard action(s) rds:*",
    ),
    "required-tags": (
        [db(), res("aws:iam/rolePolicyAttachment:RolePolicyAttachment", role="r")],
        [db(tags={"owner": "team", "environment": "prod"})],
        "missing required tag(s): cost-center",
    ),
}


# Settings a rule's cases need (a rule with no threshold set does not judge).
CONFIGS: dict[str, dict[str, Any]] = {
    "stack-monthly-budget": {"stack-monthly-budget": {"monthlyBudgetUsd": 500}}
}


def test_every_rule_has_a_case_and_a_unique_id() -> None:
    ids = [rule.id for rule in catalog.RULES]
    assert len(ids) == len(set(ids))
    assert sorted(CASES) == sorted(ids)
    for rule in catalog.RULES:
        assert rule.description and rule.remediation and rule.severity in ("mandatory", "advisory")


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_compliant_stack_passes(rule_id: str) -> None:
    compliant, _, _ = CASES[rule_id]
    assert running.evaluate(compliant, CONFIGS.get(rule_id), ruleset=[catalog.by_id(rule_id)]) == []


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_non_compliant_stack_fails_naming_the_problem(rule_id: str) -> None:
    _, bad, fragment = CASES[rule_id]
    violations = running.evaluate(bad, CONFIGS.get(rule_id), ruleset=[catalog.by_id(rule_id)])
    assert violations, rule_id
    assert any(fragment in v.message for v in violations), [v.message for v in violations]
    assert all(v.rule.id == rule_id and v.resource is not None for v in violations)


def test_thresholds_are_configurable() -> None:
    rule = catalog.by_id("rds-backup-retention")
    assert running.evaluate([db()], {"rds-backup-retention": {"minDays": 14}}, ruleset=[rule])
    assert not running.evaluate(
        [db(backupRetentionPeriod=3)], {"rds-backup-retention": {"minDays": 3}}, ruleset=[rule]
    )
    ceiling = catalog.by_id("scalingpolicy-bounds")
    assert running.evaluate([policy(1, 101)], ruleset=[ceiling])
    assert not running.evaluate(
        [policy(1, 500)], {"scalingpolicy-bounds": {"maxReplicasCeiling": 500}}, ruleset=[ceiling]
    )


def test_values_a_preview_cannot_know_are_not_violations() -> None:
    assert not running.evaluate(
        [db(storageEncrypted=rules.COMPUTED)], ruleset=[catalog.by_id("rds-storage-encrypted")]
    )
    unknown_source = [db(), replica(source=rules.COMPUTED)]
    assert not running.evaluate(unknown_source, ruleset=[catalog.by_id("rds-production-read-replicas")])


def test_enforcement_levels_can_be_changed_or_disabled() -> None:
    bad = [db(storageEncrypted=False, publiclyAccessible=True), replica()]
    blocking = running.mandatory(running.evaluate(bad))
    assert sorted({v.rule.id for v in blocking}) == ["rds-no-public-access", "rds-storage-encrypted"]
    advisory = running.evaluate(bad, {"all": "advisory"})
    assert advisory and not running.mandatory(advisory)
    only_public = running.evaluate(bad, {"rds-storage-encrypted": "disabled"})
    assert {v.rule.id for v in only_public} == {"rds-no-public-access"}


def test_policy_config_errors_name_the_rule(tmp_path) -> None:
    path = tmp_path / "policy.json"
    path.write_text('{"rds-backup-retention": {"enforcementLevel": "loud"}}')
    with pytest.raises(
        running.PolicyConfigError, match=r"rds-backup-retention\.enforcementLevel must be one of"
    ):
        running.load_config(path)
    path.write_text('{"no-such-rule": "advisory"}')
    with pytest.raises(running.PolicyConfigError, match="unknown rule 'no-such-rule'"):
        running.load_config(path)


def test_the_guardrails_page_documents_every_rule() -> None:
    from pathlib import Path

    page = (Path(__file__).resolve().parents[2] / "docs" / "guardrails.md").read_text()
    missing = [rule.id for rule in catalog.RULES if f"`{rule.id}`" not in page]
    assert not missing, f"docs/guardrails.md lacks: {missing}"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            '{"rds-backup-retention": {"minDays": -1}}',
            "rds-backup-retention.minDays: -1 is less than the minimum of 0",
        ),
        (
            '{"rds-backup-retention": {"minDays": "14"}}',
            "rds-backup-retention.minDays: '14' is not of type 'integer'",
        ),
        (
            '{"rds-backup-retention": {"minDays": true}}',
            "rds-backup-retention.minDays: True is not of type 'integer'",
        ),
        (
            '{"rds-backup-retention": {"minDay": 14}}',
            "rds-backup-retention.minDay: unknown key (did you mean 'minDays'?",
        ),
        ('{"rds-backup-retention": 14}', "rds-backup-retention: must be an enforcement level or an object"),
        ('{"rds-backup-retention": {"minDays": 14,}}', "policy.json:1: not valid JSON"),
        (
            '{"rds-backup-retenton": "advisory"}',
            "unknown rule 'rds-backup-retenton' (did you mean 'rds-backup-retention'?",
        ),
    ],
)
def test_policy_config_thresholds_are_checked_against_their_schema(tmp_path, text: str, problem: str) -> None:
    path = tmp_path / "policy.json"
    path.write_text(text)
    with pytest.raises(running.PolicyConfigError) as caught:
        running.load_config(path)
    assert problem in str(caught.value)


def test_the_shipped_policy_config_is_valid() -> None:
    from pathlib import Path

    shipped = Path(__file__).resolve().parents[2] / "policies" / "policy-config.json"
    config = running.load_config(shipped)
    retention = next(rule for rule in catalog.RULES if rule.id == "rds-backup-retention")
    assert running.overrides(retention, config)["minDays"] == 14


def test_policy_config_problems_carry_their_line(tmp_path) -> None:
    path = tmp_path / "policy.json"
    path.write_text('{\n  "all": "advisory",\n  "rds-backup-retention": {\n    "minDays": -3\n  }\n}\n')
    with pytest.raises(running.PolicyConfigError, match=r"policy.json:4: rds-backup-retention.minDays: -3"):
        running.load_config(path)
    path.write_text('{"all": "advisory", "all": "mandatory"}')
    with pytest.raises(running.PolicyConfigError, match="'all' is written twice"):
        running.load_config(path)


@pytest.mark.parametrize(
    ("statement", "fragment"),
    [
        ({"Action": "*", "Resource": "arn:aws:rds:us-east-1:1:db:x"}, "wildcard action(s) *"),
        ({"Action": ["rds:DeleteDBInstance"], "Resource": "*"}, 'rds:DeleteDBInstance on Resource "*"'),
        ({"NotAction": "iam:*", "Resource": "arn:aws:s3:::b"}, "NotAction/NotResource"),
    ],
)
def test_iam_least_privilege_names_each_broad_grant(statement: dict[str, Any], fragment: str) -> None:
    bad = iam_policy({"Statement": [{"Sid": "S", "Effect": "Allow", **statement}]})
    found = running.evaluate([bad], None, ruleset=[catalog.by_id("iam-least-privilege")])
    assert any(fragment in v.message and "statement S" in v.message for v in found), found
    # Deny statements and actions that cannot be scoped are fine.
    fine = iam_policy(
        {
            "Statement": [
                {"Effect": "Deny", "Action": "*", "Resource": "*"},
                {"Effect": "Allow", "Action": sorted(identities.GLOBAL_ACTIONS), "Resource": "*"},
            ]
        }
    )
    assert running.evaluate([fine], None, ruleset=[catalog.by_id("iam-least-privilege")]) == []
