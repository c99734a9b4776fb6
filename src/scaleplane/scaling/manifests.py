"""ScalingPolicy manifests read from YAML text: the custom resource's shape, checked as the API would.

    apiVersion: scaleplane.io/v1alpha1
    kind: ScalingPolicy
    metadata: {name: workers}
    spec: {...}

Unknown keys are refused at every level, the top level and `metadata` included (a `metadat:` typo is
an error, not a policy without a name). Every problem is one line that names the file, the line, the
field path and the value: `workers.yaml:12: spec.maxReplicas: must be an integer, was '40' (...)`.
The caller reads the file; this module only sees its text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from scaleplane.inputs import documents, problems
from scaleplane.scaling import specs

API_VERSION = "scaleplane.io/v1alpha1"
KIND = "ScalingPolicy"
TOP_LEVEL = ("apiVersion", "kind", "metadata", "spec", "status")
# ObjectMeta's fields as `kubectl get -o yaml` prints them: an exported object reads back unchanged.
METADATA = (
    "name",
    "namespace",
    "labels",
    "annotations",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "managedFields",
    "finalizers",
    "ownerReferences",
    "generateName",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
)


class ManifestError(ValueError):
    """A manifest that cannot be used: `source:line: field.path: what is wrong, was VALUE`."""


@dataclass(frozen=True)
class Manifest:
    name: str
    spec: specs.ScalingPolicySpec
    line: int  # where its document starts
    document: documents.Document | None = None  # where each field was written

    def line_of(self, loc: tuple[int | str, ...]) -> int:
        return self.document.line_of(loc) if self.document is not None else self.line


def parse(
    text: str, source: str, *, bare_spec: bool = False, other_kinds: frozenset[str] = frozenset()
) -> list[Manifest]:
    """Every ScalingPolicy in `text` (none for an empty file). With `bare_spec`, a document that is
    only a spec (no apiVersion, kind or spec key) is one too, named "policy". Documents of
    `other_kinds` (e.g. Function, which local mode reads from the same files) are skipped."""
    try:
        found = documents.load(text, source)
    except documents.DocumentError as exc:
        raise ManifestError(str(exc)) from None
    return [_one(document, source, bare_spec) for document in found if not _is_other(document, other_kinds)]


def _is_other(document: documents.Document, other_kinds: frozenset[str]) -> bool:
    data = document.data
    return isinstance(data, dict) and data.get("kind") in other_kinds


def _one(document: documents.Document, source: str, bare_spec: bool) -> Manifest:
    data = document.data

    def error(loc: tuple[int | str, ...], message: str) -> ManifestError:
        path = problems.join("", loc) or "document"
        return ManifestError(f"{source}:{document.line_of(loc)}: {path}: {message}")

    if not isinstance(data, dict):
        raise error((), f"a ScalingPolicy must be a mapping, was {problems.describe_value(data)}")
    if bare_spec and not {"apiVersion", "kind", "spec"} & data.keys():
        spec = _spec(data, document, source, root="")
        return Manifest("policy", spec, document.node.start_mark.line + 1, document)
    for key in data:
        if key not in TOP_LEVEL:
            raise error((key,), problems.unknown_key(str(key), TOP_LEVEL))
    if data.get("apiVersion") != API_VERSION:
        raise error(("apiVersion",), f"must be {API_VERSION}, was {data.get('apiVersion')!r}")
    if data.get("kind") != KIND:
        raise error(("kind",), f"must be {KIND}, was {data.get('kind')!r}")
    metadata = data.get("metadata")
    if not isinstance(metadata, dict):
        raise error(("metadata",), f"must be a mapping with a name, was {problems.describe_value(metadata)}")
    for key in metadata:
        if key not in METADATA:
            raise error(("metadata", key), problems.unknown_key(str(key), METADATA[:4]))
    name = metadata.get("name")
    if not isinstance(name, str) or not name:
        raise error(("metadata", "name"), f"is required, was {name!r}")
    if "spec" not in data:
        raise error(("spec",), "is required (targetRef, maxReplicas and metrics at least)")
    return Manifest(
        name, _spec(data["spec"], document, source, root="spec"), document.node.start_mark.line + 1
    )


def _spec(data: Any, document: documents.Document, source: str, *, root: str) -> specs.ScalingPolicySpec:
    prefix = (root,) if root else ()
    try:
        return specs.parse_policy(data, root=root or "spec")
    except specs.PolicyError as exc:
        lines = [
            f"{source}:{document.line_of((*prefix, *loc))}: {problem}"
            for problem, loc in zip(exc.problems, exc.locations, strict=True)
        ]
        more = f" (and {len(lines) - 1} more problem(s) in this document)" if len(lines) > 1 else ""
        raise ManifestError(lines[0] + more) from None
