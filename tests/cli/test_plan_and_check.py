"""`scaleplane plan` and `scaleplane check` as a user runs them: output, exit codes, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from scaleplane.cli import app
from scaleplane.cli import plan as plan_commands  # noqa: F401 - importing it registers plan and check
from tests.support import planned_stacks

RUNNER = CliRunner()
INSECURE = planned_stacks.ROOT / "tests" / "guardrails" / "fixtures" / "Pulumi.aws-insecure.yaml"


def _run(*args: str) -> tuple[int, str, str]:
    result = RUNNER.invoke(app.app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_plan_json_lists_resources_with_parents_and_masks_secrets() -> None:
    stack_file = planned_stacks.stack_file("aws-prod")
    code, out, _ = _run("plan", "--stack", "aws-prod", "--config-file", str(stack_file), "--json")
    assert code == 0
    data = json.loads(out)
    names = {r["name"]: r for r in data["resources"]}
    assert names["scaleplane-prod-db-replica-2"]["parent"] == "scaleplane-prod-db"
    assert names["scaleplane-prod-db-replica-2"]["type"] == "aws:rds/instance:Instance"
    assert names["scaleplane-prod-cache-redis"]["inputs"]["authToken"] == "(secret)"
    assert data["outputs"]["kubeconfig"] == "(secret)"
    assert len(data["outputs"]["databaseReadEndpoints"]) == 2


def test_plan_table_shows_types_names_parents_and_key_inputs() -> None:
    code, out, _ = _run(
        "plan", "--stack", "k8s-dev", "--config-file", str(planned_stacks.stack_file("k8s-dev"))
    )
    assert code == 0
    assert "kubernetes:postgresql.cnpg.io/v1:Cluster" in out and "instances=2" in out
    assert "databaseReadEndpoints" in out and "app-ro.data.svc.cluster.local" in out


def test_check_passes_on_the_production_stack() -> None:
    code, out, _ = _run(
        "check", "--stack", "aws-prod", "--config-file", str(planned_stacks.stack_file("aws-prod"))
    )
    assert code == 0, out
    assert "passed aws-prod" in out and "0 mandatory" in out


def test_check_fails_naming_resource_rule_and_fix_when_encryption_and_backups_are_off() -> None:
    code, out, err = _run("check", "--stack", "aws-insecure", "--config-file", str(INSECURE))
    assert code == 1
    assert "MANDATORY rds-storage-encrypted: aws:rds/instance:Instance scaleplane-prod-db-primary" in out
    assert "fix: Set storageEncrypted to true" in out
    assert "MANDATORY elasticache-encryption-in-transit" in out and "MANDATORY rds-backup-retention" in out
    assert "FAILED aws-insecure" in err and "Traceback" not in out + err


def test_policy_config_can_make_rules_advisory(tmp_path: Path) -> None:
    config = tmp_path / "policy.json"
    config.write_text(json.dumps({"all": "advisory"}))
    code, out, _ = _run(
        "check", "--stack", "aws-insecure", "--config-file", str(INSECURE), "--policy-config", str(config)
    )
    assert code == 0 and "ADVISORY rds-storage-encrypted" in out


def test_unknown_stack_is_a_clear_error() -> None:
    code, out, err = _run("plan", "--stack", "gcp-prod")
    assert code == 2
    assert "no stack named 'gcp-prod'" in err and "aws-dev, aws-prod, k8s-dev" in err
    assert "Traceback" not in out + err


def test_bad_config_is_a_clear_error_naming_the_key() -> None:
    bad = planned_stacks.stack_file("aws-dev", {"database": {"readReplicas": -1}})
    code, out, err = _run("check", "--stack", "aws-dev", "--config-file", str(bad))
    assert code == 2
    assert "scaleplane:database.readReplicas: must be >= 0, was -1" in err
    assert "Traceback" not in out + err
