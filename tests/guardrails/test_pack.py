"""The pulumi_policy wrappers: the pack's policies run the same rules on the engine's own argument types.

PolicyPack itself is never built here (it starts a gRPC server and never returns); policies/__main__.py
is checked to do nothing else.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pulumi_policy as policy

from scaleplane.guardrails import catalog, pack

ROOT = Path(__file__).resolve().parents[2]


def _by_name() -> dict[str, policy.Policy]:
    return {p.name: p for p in pack.policies()}


def _options() -> policy.PolicyResourceOptions:
    return policy.PolicyResourceOptions(
        protect=False,
        ignore_changes=[],
        delete_before_replace=None,
        aliases=[],
        additional_secret_outputs=[],
        custom_timeouts=policy.PolicyCustomTimeouts(0, 0, 0),
        parent=None,
    )


def _validate_resource(
    name: str, type_: str, props: dict[str, Any], config: dict[str, Any] | None = None
) -> list[str]:
    reports: list[str] = []
    args = policy.ResourceValidationArgs(
        type_, props, f"urn:pulumi:s::p::{type_}::db", "db", _options(), None, config
    )
    _by_name()[name].validate(args, lambda message, urn=None: reports.append(message))
    return reports


def test_one_policy_per_rule_with_its_enforcement_and_remediation() -> None:
    policies = _by_name()
    assert sorted(policies) == sorted(rule.id for rule in catalog.RULES)
    encrypted = policies["rds-storage-encrypted"]
    assert isinstance(encrypted, policy.ResourceValidationPolicy)
    assert encrypted.enforcement_level == policy.EnforcementLevel.MANDATORY
    assert "storageEncrypted" in (encrypted.remediation_steps or "")
    assert isinstance(policies["rds-production-read-replicas"], policy.StackValidationPolicy)
    assert policies["rds-backup-retention"].config_schema.properties["minDays"]["default"] == 7


def test_resource_policy_reports_a_violation_with_the_fix() -> None:
    props = {"storageEncrypted": False, "publiclyAccessible": False}
    (message,) = _validate_resource("rds-storage-encrypted", "aws:rds/instance:Instance", props)
    assert "stored unencrypted" in message and "Fix: Set storageEncrypted to true" in message
    assert (
        _validate_resource(
            "rds-storage-encrypted", "aws:rds/instance:Instance", {**props, "storageEncrypted": True}
        )
        == []
    )


def test_resource_policy_ignores_other_types_and_reads_its_config() -> None:
    assert (
        _validate_resource("rds-storage-encrypted", "aws:s3/bucket:Bucket", {"storageEncrypted": False}) == []
    )
    props = {"backupRetentionPeriod": 7}
    assert _validate_resource("rds-backup-retention", "aws:rds/instance:Instance", props) == []
    assert _validate_resource("rds-backup-retention", "aws:rds/instance:Instance", props, {"minDays": 14})


def test_elasticache_auth_policy_on_engine_args() -> None:
    group = "aws:elasticache/replicationGroup:ReplicationGroup"
    assert _validate_resource("elasticache-auth", group, {"transitEncryptionEnabled": True})
    assert _validate_resource("elasticache-auth", group, {"authToken": "t"}) == []


def _stack_resource(type_: str, name: str, props: dict[str, Any]) -> policy.PolicyResource:
    return policy.PolicyResource(
        type_, props, f"urn:pulumi:s::p::{type_}::{name}", name, _options(), None, None, [], {}
    )


def test_stack_policy_reports_against_the_resource_urn() -> None:
    prod = {"environment": "prod"}
    primary = _stack_resource("aws:rds/instance:Instance", "db", {"identifier": "db", "tags": prod})
    replica = _stack_resource("aws:rds/instance:Instance", "db-r1", {"replicateSourceDb": "db", "tags": prod})
    reports: list[tuple[str, str | None]] = []
    check = _by_name()["rds-production-read-replicas"]
    check.validate(
        policy.StackValidationArgs([primary]), lambda message, urn=None: reports.append((message, urn))
    )
    assert len(reports) == 1 and reports[0][1] == primary.urn and "0 read replica(s)" in reports[0][0]
    reports.clear()
    check.validate(
        policy.StackValidationArgs([primary, replica]),
        lambda message, urn=None: reports.append((message, urn)),
    )
    assert reports == []


def test_the_pack_main_only_builds_the_policy_pack() -> None:
    tree = ast.parse((ROOT / "policies" / "__main__.py").read_text())
    statements = [node for node in tree.body if not isinstance(node, ast.Import | ast.ImportFrom)]
    statements = [
        s for s in statements if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))
    ]
    assert len(statements) == 1
    call = statements[0].value  # type: ignore[attr-defined]
    assert isinstance(call, ast.Call) and getattr(call.func, "id", "") == "PolicyPack"
    assert "PulumiPolicy.yaml" in {p.name for p in (ROOT / "policies").iterdir()}
