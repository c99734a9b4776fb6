"""Stack config: validated once, errors naming the key; Pulumi.yaml documents every key and default."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from scaleplane.infra import config, planning
from tests.support import planned_stacks

ROOT = planned_stacks.ROOT


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"database": {"readReplicas": -1}}, "scaleplane:database.readReplicas: must be >= 0, was -1"),
        ({"database": '{"readReplicas": 16}'}, "scaleplane:database.readReplicas: must be <= 15, was 16"),
        ({"database": {"replicas": 2}}, "scaleplane:database.replicas: unknown key"),
        ({"databse": {}}, "scaleplane:databse: unknown key"),
        ({"target": "gcp"}, "scaleplane:target: Input should be 'aws' or 'kubernetes', was 'gcp'"),
        ({"cache": "{not json"}, "scaleplane:cache: not valid JSON"),
        ({"cache": {"replicas": 0}}, "scaleplane:cache: automaticFailover needs replicas >= 1"),
        (
            {"cluster": {"endpointPublicAccess": True}},
            "scaleplane:cluster: endpointPublicAccess needs publicAccessCidrs",
        ),
        (
            {"cluster": {"nodeGroups": [{"minSize": 5}]}},
            "scaleplane:cluster.nodeGroups[0]: needs minSize <= desiredSize <= maxSize, was 5, 3, 6",
        ),
        (
            {"operator": {"maxReplicasCeiling": 10}},
            "scaleplane:operator.workers.policy: maxReplicas must be <= operator.maxReplicasCeiling (10), "
            "was 20",
        ),
    ],
)
def test_errors_name_the_key_and_the_value(raw: dict[str, object], expected: str) -> None:
    with pytest.raises(config.ConfigError) as caught:
        config.parse(raw)
    assert any(problem.startswith(expected) for problem in caught.value.problems), caught.value.problems


def test_one_error_per_bad_key_no_knock_on_errors() -> None:
    with pytest.raises(config.ConfigError) as caught:
        config.parse({"cluster": {"nodeGroups": [{"minSize": 5}]}, "database": {"readReplicas": -1}})
    assert len(caught.value.problems) == 2


def test_production_switches_follow_the_environment() -> None:
    assert config.parse({"environment": "prod"}).production
    assert not config.parse({"environment": "staging"}).production
    assert config.parse({"environment": "dev", "tags": {"owner": "x"}}).resource_tags == {
        "owner": "x",
        "environment": "dev",
        "managed-by": "scaleplane",
    }


def test_pulumi_yaml_declares_every_key_with_a_description_and_the_models_default() -> None:
    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
    assert project["main"] == "stacks/"
    assert project["runtime"]["name"] == "python"
    declared = project["config"]
    assert sorted(declared) == sorted(config.TOP_LEVEL_KEYS)
    defaults = config.PlatformConfig().model_dump(by_alias=True, mode="json")
    for key in config.TOP_LEVEL_KEYS:
        assert declared[key]["description"].strip(), key
        assert declared[key]["default"] == defaults[key], key
        if isinstance(defaults[key], dict):  # each field of an object key is named in its description
            for field in defaults[key]:
                assert field in declared[key]["description"], (key, field)


def test_every_example_stack_config_is_valid() -> None:
    for stack in planning.stack_names(ROOT):
        _, values = planning.stack_config(ROOT, stack)
        raw = {key.split(":", 1)[1]: value for key, value in values.items() if key.startswith("scaleplane:")}
        config.parse(raw)


def test_a_bad_stack_config_fails_the_plan_naming_the_key() -> None:
    path = planned_stacks.stack_file("aws-dev", {"database": {"readReplicas": -1}})
    with pytest.raises(config.ConfigError, match=r"scaleplane:database\.readReplicas: must be >= 0, was -1"):
        planning.plan(ROOT, "aws-dev", path)


def test_an_unknown_stack_names_the_ones_there_are() -> None:
    with pytest.raises(planning.PlanError, match=r"no stack named 'aws-staging'.*aws-dev, aws-prod, k8s-dev"):
        planning.plan(ROOT, "aws-staging")


def test_missing_operator_manifests_name_the_file(tmp_path: Path) -> None:
    (tmp_path / "crds").mkdir()
    (tmp_path / "crds" / "a.yaml").write_text("kind: CustomResourceDefinition\n")
    path = planned_stacks.stack_file("k8s-dev", manifests=str(tmp_path))
    with pytest.raises(
        config.ConfigError, match=r"operator\.manifestsDir: .*missing: .*/rbac\.yaml, .*/deployment\.yaml"
    ):
        planning.plan(ROOT, "k8s-dev", path)
