"""Stack config: validated once, errors naming the key; Pulumi.yaml documents every key and default."""

from __future__ import annotations

import pickle
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
        ({"target": "gcp"}, "scaleplane:target: must be 'aws' or 'kubernetes', was 'gcp'"),
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


# Issue 8: what Pulumi lets through silently is refused, naming the file, the line and the fix.
@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            "config:\n  scaleplane:target: aws\n  scaleplane:databse:\n    readReplicas: 2\n",
            "x.yaml:3: scaleplane:databse: unknown key (did you mean 'database'?",
        ),
        (
            "config:\n  aws:regoin: eu-west-1\n  scaleplane:target: aws\n",
            "x.yaml:2: aws:regoin: unknown key (did you mean 'region'?",
        ),
        ("", "x.yaml: has no config; set scaleplane:target"),
        ("config: {}\n", "x.yaml: has no config; set scaleplane:target"),
        ("config:\n  scaleplane:environment: dev\n", "x.yaml: scaleplane:target is not set"),
        (
            "config:\n  scaleplane:target: aws\n  scaleplane:database: {readReplicas: '2'}\n",
            "x.yaml:3: scaleplane:database.readReplicas: must be an integer, was '2' (write 2 without",
        ),
        (
            "config:\n  scaleplane:target: aws\n  scaleplane:database: {storageEncrypted: 1}\n",
            "x.yaml:3: scaleplane:database.storageEncrypted: must be true or false, was 1",
        ),
        (
            "config:\n  scaleplane:target: aws\n"
            "  scaleplane:cluster: {nodeGroups: [{maxSize: 10000000000}]}\n",
            "x.yaml:3: scaleplane:cluster.nodeGroups[0].maxSize: must be at most 2147483647",
        ),
    ],
)
def test_stack_files_are_read_strictly(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "x.yaml"
    path.write_text(text)
    with pytest.raises(config.ConfigError) as caught:
        planning.plan(ROOT, "x", path)
    assert caught.value.problems[0].replace(str(tmp_path) + "/", "").startswith(problem), (
        caught.value.problems
    )


def test_a_bad_value_deep_in_a_stack_file_is_pointed_at_its_line(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text(
        "config:\n  scaleplane:target: aws\n  scaleplane:cluster:\n    nodeGroups:\n"
        "      - name: general\n        minSize: 'one'\n"
    )
    with pytest.raises(config.ConfigError) as caught:
        planning.stack_config(ROOT, "x", path)
    assert caught.value.problems == [
        f"{path}:6: scaleplane:cluster.nodeGroups[0].minSize: must be an integer, was 'one'"
    ]


def test_a_binary_stack_file_is_named_as_such(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe")
    with pytest.raises(planning.PlanError, match="not a text file"):
        planning.stack_config(ROOT, "x", path)


def test_the_aws_keys_are_the_installed_providers() -> None:
    import re

    import pulumi_aws

    source = (Path(pulumi_aws.__file__).parent / "config" / "vars.py").read_text()
    assert set(config.AWS_KEYS) == set(re.findall(r"__config__\.get\w*\('(\w+)'\)", source))


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ({"database": {"storageSize": "20GB"}}, "scaleplane:database.storageSize: not a Kubernetes quantity"),
        ({"operator": {"workers": {"memoryRequest": "256mb"}}}, "for 'mb' write M or Mi"),
        ({"monitoring": {"retention": "15 days"}}, "scaleplane:monitoring.retention: not a PromQL duration"),
    ],
)
def test_quantities_and_durations_are_understood_or_refused(raw: dict[str, object], problem: str) -> None:
    with pytest.raises(config.ConfigError) as caught:
        config.parse(raw)
    assert problem in caught.value.problems[0], caught.value.problems
    assert config.parse({"database": {"storageSize": "1.5Ti"}, "monitoring": {"retention": "2w"}})


def test_the_program_refuses_keys_it_does_not_read() -> None:
    import pulumi

    pulumi.runtime.set_all_config({"scaleplane:target": "aws", "scaleplane:databse": "{}", "aws:regoin": "x"})
    try:
        with pytest.raises(config.ConfigError) as caught:
            config.from_pulumi()
    finally:
        pulumi.runtime.set_all_config({})
    assert [p.split(":")[0] + ":" + p.split(":")[1] for p in caught.value.problems] == [
        "aws:regoin",
        "scaleplane:databse",
    ]


def test_a_config_error_survives_pickling_whole() -> None:
    error = config.ConfigError(["scaleplane:a: bad, was 1", "scaleplane:b: bad, was 2"])
    back = pickle.loads(pickle.dumps(error))
    assert (back.problems, str(back)) == (error.problems, str(error))
