"""Operator settings come from the environment; a bad value names the variable and the value."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from scaleplane.operator.wiring import settings

ROOT = Path(__file__).resolve().parents[2]


def test_defaults_and_values() -> None:
    config = settings.from_env({})
    assert config.tick_seconds == 15 and config.lease and config.metrics_host_port() == ("0.0.0.0", 9108)
    assert config.batch_queries
    config = settings.from_env(
        {
            "SCALEPLANE_TICK_SECONDS": "1.5",
            "SCALEPLANE_BATCH_QUERIES": "false",
            "SCALEPLANE_METRICS_ADDR": "",
            "POD_NAME": "op-0",
            "POD_NAMESPACE": "ops",
            "SCALEPLANE_HOOKS": '[{"url": "https://hooks.example/x", "secretEnv": "HOOK_SECRET"}]',
            "HOOK_SECRET": "abc",
        }
    )
    assert config.tick_seconds == 1.5 and config.metrics_host_port() is None
    assert not config.batch_queries
    assert config.identity == "op-0" and config.lease_namespace == "ops"
    assert config.hooks[0].secret_env == "HOOK_SECRET"


def test_identities_differ_between_operators_in_one_process() -> None:
    assert settings.from_env({}).identity != settings.from_env({}).identity


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"SCALEPLANE_TICK_SECONDS": "0"},
            "SCALEPLANE_TICK_SECONDS: Input should be greater than 0, was '0'",
        ),
        ({"SCALEPLANE_METRICS_ADDR": "9108"}, "SCALEPLANE_METRICS_ADDR"),
        ({"SCALEPLANE_PROMETHEUS_URL": "prometheus:9090"}, "SCALEPLANE_PROMETHEUS_URL"),
        ({"SCALEPLANE_HOOKS": "[{"}, "SCALEPLANE_HOOKS: not JSON"),
        ({"SCALEPLANE_HOOKS": '[{"url": "ftp://x"}]'}, "SCALEPLANE_HOOKS[0].url"),
        ({"SCALEPLANE_LEASE": "maybe"}, "SCALEPLANE_LEASE"),
        ({"SCALEPLANE_RDS_MAX_LAG_SECONDS": "0"}, "SCALEPLANE_RDS_MAX_LAG_SECONDS: Input should be greater"),
        ({"SCALEPLANE_AWS_REGION": "mars"}, "SCALEPLANE_AWS_REGION: String should match"),
        ({"SCALEPLANE_RDS_INSTANCE_CLASS": "r6g.large"}, "SCALEPLANE_RDS_INSTANCE_CLASS"),
    ],
)
def test_bad_values_name_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(settings.SettingsError) as caught:
        settings.from_env(env)
    assert message in str(caught.value)


def test_the_status_heartbeat_is_a_setting() -> None:
    assert settings.from_env({}).status_heartbeat_seconds == 180
    assert settings.from_env({"SCALEPLANE_STATUS_HEARTBEAT_SECONDS": "0"}).status_heartbeat_seconds == 0
    with pytest.raises(settings.SettingsError, match="SCALEPLANE_STATUS_HEARTBEAT_SECONDS"):
        settings.from_env({"SCALEPLANE_STATUS_HEARTBEAT_SECONDS": "-5"})


def test_the_aws_settings_default_to_boto3s_region_and_the_sources_class() -> None:
    config = settings.from_env({})
    assert (config.aws_region, config.rds_max_lag_seconds, config.rds_instance_class) == ("", 30.0, "")
    config = settings.from_env(
        {"SCALEPLANE_AWS_REGION": "eu-west-1", "SCALEPLANE_RDS_INSTANCE_CLASS": "db.r6g.large"}
    )
    assert (config.aws_region, config.rds_instance_class) == ("eu-west-1", "db.r6g.large")


def test_outside_a_pod_the_lease_is_the_installed_operators_one() -> None:
    """A replica run from a laptop must find the Lease the Deployment's replicas hold, not make its own."""
    deployment = yaml.safe_load((ROOT / "operator" / "deployment.yaml").read_text())
    lease_roles = [
        doc
        for doc in yaml.safe_load_all((ROOT / "operator" / "rbac.yaml").read_text())
        if doc and doc["kind"] == "Role" and doc["metadata"]["name"] == "scaleplane-operator-lease"
    ]
    assert settings.from_env({}).lease_namespace == deployment["metadata"]["namespace"]
    assert [role["metadata"]["namespace"] for role in lease_roles] == [deployment["metadata"]["namespace"]]
    assert settings.from_env({"POD_NAMESPACE": "ops"}).lease_namespace == "ops"
