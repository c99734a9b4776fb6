"""The operator's image: named once (scaleplane.images), the same in every shipped file."""

from __future__ import annotations

import re
import tomllib
from typing import Any

import yaml

import scaleplane
from scaleplane import images
from tests.support import planned_stacks

ROOT = planned_stacks.ROOT
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
