"""The CustomResourceDefinitions, generated from the spec models (never edited by hand).

`python -m scaleplane.operator.manifests.crds` (or `scaleplane operator crds`) writes `operator/crds/*.yaml`;
`--check` exits 1 when the files on disk differ from what the models generate (CI and the tests run it).

The rules that cross fields are CEL `x-kubernetes-validations`, so the API server rejects at admission
what `specs.parse_policy` rejects in Python. The operator still validates every spec it reads: CEL
needs Kubernetes 1.25+, and a CRD installed from an older release may lag behind.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

from scaleplane import generated
from scaleplane.operator.manifests import functions, schemas
from scaleplane.scaling import specs

GROUP = "scaleplane.io"
VERSION = "v1alpha1"

POLICY_RULES = {
    "ScalingPolicySpec": [
        {
            "rule": "self.maxReplicas >= (has(self.minReplicas) ? self.minReplicas : 1)",
            "message": "maxReplicas must be >= minReplicas",
        },
    ],
    "MetricSpec": [
        {
            "rule": "has(self.type) && self.type == 'Resource' ? "
            "(has(self.resource) && !has(self.query) && !has(self.target)) : "
            "(has(self.query) && has(self.target) && !has(self.resource))",
            "message": "a metric has query and target, or type Resource and resource",
        }
    ],
    "ResourceTarget": [
        {
            "rule": "self.type == 'Utilization' ? "
            "(has(self.averageUtilization) && !has(self.averageValue)) : "
            "(has(self.averageValue) && !has(self.averageUtilization))",
            "message": "Utilization takes averageUtilization, AverageValue takes averageValue",
        }
    ],
    "Fallback": [
        {
            "rule": "!has(self.action) || self.action != 'replicas' || has(self.replicas)",
            "message": "action 'replicas' needs fallback.replicas",
        }
    ],
}
FUNCTION_RULES = {
    "FunctionSpec": [
        {
            "rule": "(has(self.maxReplicas) ? self.maxReplicas : 10) >= "
            "(has(self.minReplicas) ? self.minReplicas : 0)",
            "message": "maxReplicas must be >= minReplicas",
        },
        {
            "rule": "!has(self.metric) || self.metric != 'rate' || has(self.rateTarget)",
            "message": "metric 'rate' needs rateTarget",
        },
        {
            "rule": "has(self.image) || has(self.source)",
            "message": "image is required unless source (a handler in a ConfigMap) is set",
        },
    ]
}

# Status is written only by the operator; its shape is documented in `operator.records.statuses`, and it
# carries the engine's serialised state, whose inner shape belongs to the engine.
STATUS_SCHEMA = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}


def _crd(
    *, kind: str, plural: str, short: list[str], spec: Any, columns: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{GROUP}"},
        "spec": {
            "group": GROUP,
            "scope": "Namespaced",
            "names": {
                "kind": kind,
                "plural": plural,
                "singular": kind.lower(),
                "shortNames": short,
                "categories": ["scaleplane"],
            },
            "versions": [
                {
                    "name": VERSION,
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "additionalPrinterColumns": columns,
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "required": ["spec"],
                            "properties": {"spec": spec, "status": STATUS_SCHEMA},
                        }
                    },
                }
            ],
        },
    }


def _column(name: str, path: str, kind: str = "string", priority: int = 0) -> dict[str, Any]:
    column: dict[str, Any] = {"name": name, "type": kind, "jsonPath": path}
    if priority:
        column["priority"] = priority
    return column


def scaling_policy_crd() -> dict[str, Any]:
    spec = schemas.structural(specs.ScalingPolicySpec, validations=POLICY_RULES)
    # Unique metric names: a list-map keyed by name makes the API server enforce it, at no CEL cost
    # (a CEL all/exists_one over an unbounded list would exceed the API server's cost budget).
    spec["properties"]["metrics"].update(
        {"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"]}
    )
    return _crd(
        kind="ScalingPolicy",
        plural="scalingpolicies",
        short=["sp"],
        spec=spec,
        columns=[
            _column("Target", ".status.target"),
            _column("Min", ".spec.minReplicas", "integer"),
            _column("Max", ".spec.maxReplicas", "integer"),
            _column("Current", ".status.currentReplicas", "integer"),
            _column("Desired", ".status.desiredReplicas", "integer"),
            _column("Last Scale", ".status.lastScaleTime", "date"),
            _column("Reason", ".status.lastDecision.reason"),
            _column("Message", ".status.lastDecision.message", priority=1),
            _column("Age", ".metadata.creationTimestamp", "date"),
        ],
    )


def function_crd() -> dict[str, Any]:
    return _crd(
        kind="Function",
        plural="functions",
        short=["fn"],
        spec=schemas.structural(functions.FunctionSpec, validations=FUNCTION_RULES),
        columns=[
            _column("Image", ".spec.image"),
            _column("Group", ".spec.group"),
            _column("Min", ".spec.minReplicas", "integer"),
            _column("Max", ".spec.maxReplicas", "integer"),
            _column("Ready", ".status.conditions[?(@.type=='Ready')].status"),
            _column("Policy", ".status.scalingPolicy", priority=1),
            _column("Age", ".metadata.creationTimestamp", "date"),
        ],
    )


def rendered() -> dict[str, str]:
    """File name -> YAML text, exactly as committed under operator/crds/."""
    header = "# Generated by `scaleplane operator crds` from the spec models. Do not edit.\n"
    return {
        "scalingpolicies.yaml": header + yaml.safe_dump(scaling_policy_crd(), sort_keys=False, width=110),
        "functions.yaml": header + yaml.safe_dump(function_crd(), sort_keys=False, width=110),
    }


def drift(directory: Path) -> list[str]:
    """Names of files under `directory` that are missing or differ from the generated ones."""
    return generated.drift(directory, rendered())


def write(directory: Path) -> list[Path]:
    return generated.write(directory, rendered())


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    check = "--check" in args
    rest = [a for a in args if a != "--check"]
    directory = Path(rest[0]) if rest else Path("operator/crds")
    if check:
        stale = drift(directory)
        for name in stale:
            print(f"{directory / name}: differs from the spec models; run `scaleplane operator crds`")
        return 1 if stale else 0
    for path in write(directory):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
