"""Local-mode ScalingPolicy files: the same spec as the CRD, read from YAML files.

A file holds one or more documents shaped like the custom resource (so a policy tried on a laptop can
be applied to a cluster unchanged):

    apiVersion: scaleplane.io/v1alpha1
    kind: ScalingPolicy
    metadata: {name: workers}
    spec: {targetRef: {kind: WorkerPool, name: workers}, minReplicas: 1, maxReplicas: 6, metrics: [...]}

Errors name the file, the document and the field (`workers.yaml#1: spec.maxReplicas: is required`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from scaleplane.scaling import specs

API_VERSION = "scaleplane.io/v1alpha1"
KIND = "ScalingPolicy"
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


def _one(document: Any, where: str, source: Path) -> PolicyFile:
    if not isinstance(document, dict):
        raise PolicyFileError(f"{where}: a ScalingPolicy must be a mapping, was {type(document).__name__}")
    if document.get("apiVersion") != API_VERSION:
        raise PolicyFileError(
            f"{where}: apiVersion must be {API_VERSION}, was {document.get('apiVersion')!r}"
        )
    if document.get("kind") != KIND:
        raise PolicyFileError(f"{where}: kind must be {KIND}, was {document.get('kind')!r}")
    name = (document.get("metadata") or {}).get("name")
    if not isinstance(name, str) or not name:
        raise PolicyFileError(f"{where}: metadata.name is required, was {name!r}")
    try:
        spec = specs.parse_policy(document.get("spec"))
    except specs.PolicyError as exc:
        raise PolicyFileError("; ".join(f"{where}: {problem}" for problem in exc.problems)) from None
    return PolicyFile(name, spec, source)


def load(path: Path) -> list[PolicyFile]:
    """Every policy in `path` (a YAML file, or a directory of `*.yaml`/`*.yml`), sorted by name."""
    if not path.exists():
        raise PolicyFileError(f"policies: {path} does not exist")
    files = sorted([*path.glob("*.yaml"), *path.glob("*.yml")]) if path.is_dir() else [path]
    found: list[PolicyFile] = []
    others = 0
    for file in files:
        try:
            documents = [d for d in yaml.safe_load_all(file.read_text()) if d is not None]
        except yaml.YAMLError as exc:
            raise PolicyFileError(f"{file.name}: not valid YAML: {exc}") from None
        others += sum(1 for d in documents if isinstance(d, dict) and d.get("kind") in OTHER_KINDS)
        found += [
            _one(d, f"{file.name}#{i + 1}", file)
            for i, d in enumerate(documents)
            if not (isinstance(d, dict) and d.get("kind") in OTHER_KINDS)
        ]
    if not found and not others:
        raise PolicyFileError(f"policies: no ScalingPolicy found in {path}")
    names = [p.name for p in found]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise PolicyFileError(f"policies: metadata.name must be unique, repeated: {', '.join(repeated)}")
    return sorted(found, key=lambda p: p.name)
