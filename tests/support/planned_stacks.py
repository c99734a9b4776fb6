"""The example stacks planned under Pulumi mocks, once per test session and shared by every test.

A plan takes a few seconds (mostly importing the provider SDKs, once); tests ask `planned(stack,
overrides)` and get the same Plan object back for the same arguments. Overrides are merged into the
example's config one key deep (`{"database": {"readReplicas": 3}}` changes one field of
`scaleplane:database`). Every plan points `operator.manifestsDir` at tests/infra/fixtures/operator,
so the tests do not depend on the generated manifests in operator/ being there yet.
"""

from __future__ import annotations

import functools
import json
import tempfile
from pathlib import Path
from typing import Any

import yaml

from scaleplane.infra import planning

ROOT = Path(__file__).resolve().parents[2]
FIXTURE_MANIFESTS = "tests/infra/fixtures/operator"
_WORKDIR = tempfile.TemporaryDirectory(prefix="scaleplane-stacks-")


def stack_file(
    example: str, overrides: dict[str, Any] | None = None, manifests: str = FIXTURE_MANIFESTS
) -> Path:
    """A copy of Pulumi.<example>.yaml with `overrides` merged in, written to a temporary file."""
    data = yaml.safe_load((ROOT / f"Pulumi.{example}.yaml").read_text())
    config = data["config"]
    merged = {"operator": {"manifestsDir": manifests}, **(overrides or {})}
    if "manifestsDir" not in merged["operator"]:
        merged["operator"] = {"manifestsDir": manifests, **merged["operator"]}
    for key, value in merged.items():
        full = f"scaleplane:{key}"
        if isinstance(value, dict) and isinstance(config.get(full), dict):
            config[full] = {**config[full], **value}
        else:
            config[full] = value
    name = f"Pulumi.{example}-{abs(hash(json.dumps(merged, sort_keys=True)))}.yaml"
    path = Path(_WORKDIR.name) / name
    path.write_text(yaml.safe_dump(data))
    return path


@functools.cache
def _planned(example: str, overrides: str) -> planning.Plan:
    return planning.plan(ROOT, example, stack_file(example, json.loads(overrides)))


def planned(example: str, overrides: dict[str, Any] | None = None) -> planning.Plan:
    return _planned(example, json.dumps(overrides or {}, sort_keys=True))
