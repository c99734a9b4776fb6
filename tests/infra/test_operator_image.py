"""The operator's image: named once (scaleplane.images), the same in every shipped file, and replaced by
`scaleplane:operator.image` wherever the stack runs it (the operator, the gateway, the queue exporter)."""

from __future__ import annotations

import re
import tomllib
from typing import Any

import pytest
import yaml

import scaleplane
from scaleplane import images
from scaleplane.infra import config, planning, scaling_operator
from tests.support import planned_stacks

ROOT = planned_stacks.ROOT
MIRROR = "registry.example.com:5000/mirror/scaleplane/operator:0.1.0"
# A written-out reference to the default repository at some tag or digest, in code, YAML, docs or prose.
MENTION = re.compile(r"ghcr\.io/scaleplane/operator[:@][\w.:-]*\w")


def _containers(obj: dict[str, Any]) -> list[dict[str, Any]]:
    pod = ((obj.get("spec") or {}).get("template") or {}).get("spec") or {}
    return [*(pod.get("initContainers") or ()), *(pod.get("containers") or ())]


def test_the_version_and_every_shipped_mention_of_the_image_agree() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["version"] == scaleplane.__version__
    assert f"ghcr.io/scaleplane/operator:{scaleplane.__version__}" == images.OPERATOR
    for name in ("deployment.yaml", "gateway.yaml"):
        objects = [doc for doc in yaml.safe_load_all((ROOT / "operator" / name).read_text()) if doc]
        assert {c["image"] for obj in objects for c in _containers(obj)} == {images.OPERATOR}, name
    files = [
        ROOT / "README.md",
        ROOT / "operator" / "Dockerfile",
        *(ROOT / "operator").glob("*.yaml"),
        *(ROOT / "docs").glob("*.md"),
        *(ROOT / "src").rglob("*.py"),
    ]
    stale = {
        (path.relative_to(ROOT).as_posix(), found)
        for path in files
        for found in MENTION.findall(path.read_text())
        if found != images.OPERATOR
    }
    assert not stale, f"name images.OPERATOR ({images.OPERATOR}) or import it: {sorted(stale)}"


@pytest.mark.parametrize("image", [None, MIRROR])
def test_the_operator_the_gateway_and_the_queue_exporter_run_the_configured_image(image: str | None) -> None:
    operator: dict[str, Any] = {"manifestsDir": "operator", "functions": {"enabled": True}}
    if image:
        operator["image"] = image
    plan = planned_stacks.planned("k8s-dev", {"operator": operator})
    expected = image or images.OPERATOR
    running = {
        d.inputs["metadata"]["name"]: [c["image"] for c in _containers(d.inputs)]
        for d in plan.by_type("kubernetes:apps/v1:Deployment")
    }
    assert running["scaleplane-operator"] == [expected]
    assert running["scaleplane-gateway"] == [expected]
    assert running["queue-exporter"] == [expected]
    ours = {i for found in running.values() for i in found if "scaleplane/operator" in i}
    assert ours == {expected}  # no container left on the default image when a mirror is set
    # ... and the Functions the operator runs from a `source` pull it from the same place
    deployments = plan.by_type("kubernetes:apps/v1:Deployment")
    (deployment,) = [d for d in deployments if d.inputs["metadata"]["name"] == "scaleplane-operator"]
    env = {e["name"]: e.get("value") for c in _containers(deployment.inputs) for e in c.get("env") or ()}
    assert env.get("SCALEPLANE_FUNCTION_RUNTIME_IMAGE") == image


def test_every_container_on_the_operators_repository_is_replaced_and_no_other() -> None:
    pinned = "ghcr.io/scaleplane/operator@sha256:" + "a" * 64
    deployment = {
        "kind": "Deployment",
        "metadata": {"name": "mine"},
        "spec": {
            "template": {
                "spec": {
                    "initContainers": [{"name": "migrate", "image": pinned}],
                    "containers": [
                        {"name": "operator", "image": "ghcr.io/scaleplane/operator:0.0.9"},
                        {"name": "proxy", "image": "ghcr.io/scaleplane/operator-proxy:1.0"},
                        {"name": "sidecar", "image": "busybox:1.36"},
                    ],
                }
            }
        },
    }
    replaced = scaling_operator.with_operator_image(deployment, MIRROR)
    assert [c["image"] for c in _containers(replaced)] == [
        MIRROR,
        MIRROR,
        "ghcr.io/scaleplane/operator-proxy:1.0",
        "busybox:1.36",
    ]
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"].endswith(":0.0.9")  # not mutated
    configmap = {"kind": "ConfigMap", "metadata": {"name": "x"}, "data": {"image": images.OPERATOR}}
    assert scaling_operator.with_operator_image(configmap, MIRROR) is configmap


@pytest.mark.parametrize(
    "image",
    [
        MIRROR,
        "localhost:5000/scaleplane/operator:0.1.0",
        "10.0.0.7/scaleplane/operator:v0.1.0-mirror.1",
        "[fd00::7]:5000/operator:0.1.0",
        "registry.example.com/scaleplane/operator@sha256:" + "0" * 64,
        "operator:0.1.0",
    ],
)
def test_pinned_references_are_accepted(image: str) -> None:
    assert config.parse({"operator": {"image": image}}).operator.image_or_default == image


@pytest.mark.parametrize(
    ("image", "problem"),
    [
        ("registry.example.com/scaleplane/operator", "needs a tag or a digest"),
        ("registry.example.com/Scaleplane/Operator:0.1.0", "must be an image reference like"),
        ("https://registry.example.com/scaleplane/operator:0.1.0", "must be an image reference like"),
        ("registry.example.com/scaleplane/operator:0.1.0 ", "must be an image reference like"),
        ("registry.example.com/scaleplane/operator@sha256:abc", "must be an image reference like"),
    ],
)
def test_a_bad_image_is_one_error_naming_the_key_and_the_value(image: str, problem: str) -> None:
    with pytest.raises(config.ConfigError) as caught:
        config.parse({"operator": {"image": image}})
    (only,) = caught.value.problems
    assert only.startswith(f"scaleplane:operator.image: {problem}"), only
    assert only.endswith(f", was {image!r}"), only


def test_a_bad_image_stops_the_plan_before_anything_is_deployed() -> None:
    path = planned_stacks.stack_file("k8s-dev", {"operator": {"image": "mirror/Operator"}})
    with pytest.raises(config.ConfigError) as caught:
        planning.plan(ROOT, "k8s-dev", path)
    (only,) = caught.value.problems  # the stack file's line, the key, what is wrong and the value
    assert only.startswith(f"{path}:") and only.endswith(
        ": scaleplane:operator.image: must be an image reference like "
        "registry.example.com/scaleplane/operator:TAG (lowercase path, then a tag or @sha256:DIGEST), "
        "was 'mirror/Operator'"
    ), only


def test_the_workers_image_must_be_pullable_and_may_float() -> None:
    workers = {"operator": {"workers": {"image": "ghcr.io/example/app-worker"}}}
    assert config.parse(workers).operator.workers.image == "ghcr.io/example/app-worker"
    with pytest.raises(config.ConfigError) as caught:
        config.parse({"operator": {"workers": {"image": "ghcr.io/Example/App:1"}}})
    (only,) = caught.value.problems
    assert only == (
        "scaleplane:operator.workers.image: must be an image reference like "
        "registry.example.com/team/app:TAG (lowercase path, then a tag or @sha256:DIGEST), "
        "was 'ghcr.io/Example/App:1'"
    ), only
