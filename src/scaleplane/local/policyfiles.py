"""Local-mode ScalingPolicy files: the same spec as the CRD, read from YAML files.

A file holds one or more documents shaped like the custom resource (so a policy tried on a laptop can
be applied to a cluster unchanged):

    apiVersion: scaleplane.io/v1alpha1
    kind: ScalingPolicy
    metadata: {name: workers}
    spec: {targetRef: {kind: WorkerPool, name: workers}, minReplicas: 1, maxReplicas: 6, metrics: [...]}

Errors name the file, the line and the field (`workers.yaml:9: spec.maxReplicas: is required`); the
parsing is `scaleplane.scaling.manifests`, shared with `simulate` and `validate`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from scaleplane.scaling import manifests, specs

API_VERSION = manifests.API_VERSION
KIND = manifests.KIND
BUILTIN_DIR = Path(__file__).with_name("policies")
# Other kinds that may sit in the same files; their own module reads them (Function: local.functionhome).
OTHER_KINDS = frozenset({"Function"})


class PolicyFileError(ValueError):
    """A policy file that cannot be used; the message names the file, the document and the field."""


@dataclass(frozen=True)
class PolicyFile:
    name: str
    spec: specs.ScalingPolicySpec
    source: Path


def _count_other_kinds(text: str) -> int:
    """Documents of OTHER_KINDS in a file `manifests.parse` has read (so it is valid YAML)."""
    return sum(1 for d in yaml.safe_load_all(text) if isinstance(d, dict) and d.get("kind") in OTHER_KINDS)


def load(path: Path) -> list[PolicyFile]:
    """Every policy in `path` (a YAML file, or a directory of `*.yaml`/`*.yml`), sorted by name."""
    if not path.exists():
        raise PolicyFileError(f"policies: {path} does not exist")
    files = sorted([*path.glob("*.yaml"), *path.glob("*.yml")]) if path.is_dir() else [path]
    found: list[PolicyFile] = []
    others = 0
    for file in files:
        try:
            text = file.read_text()
        except (OSError, UnicodeDecodeError) as exc:
            raise PolicyFileError(f"{file.name}: cannot read it ({exc})") from None
        try:
            found += [
                PolicyFile(m.name, m.spec, file)
                for m in manifests.parse(text, file.name, other_kinds=OTHER_KINDS)
            ]
        except manifests.ManifestError as exc:
            raise PolicyFileError(str(exc)) from None
        others += _count_other_kinds(text)
    if not found and not others:
        raise PolicyFileError(f"policies: no ScalingPolicy found in {path}")
    names = [p.name for p in found]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise PolicyFileError(f"policies: metadata.name must be unique, repeated: {', '.join(repeated)}")
    return sorted(found, key=lambda p: p.name)
