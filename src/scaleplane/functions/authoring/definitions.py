"""A function as a file declares it, and the ScalingPolicy that scales it on the gateway's concurrency.

In local mode a Function is a document next to the ScalingPolicies (the same apiVersion), naming its
handler instead of an image (the cluster's Function CRD runs an image; see docs/functions.md):

    apiVersion: scaleplane.io/v1alpha1
    kind: Function
    metadata: {name: hello, namespace: demo}
    spec:
      handler: hello.py:main       # FILE.py[:FUNCTION], relative to this file, or MODULE[:FUNCTION]
      concurrency: 4               # calls in flight (+ queued at the gateway) per instance
      minReplicas: 0               # 0: scales to zero; >= 1: always on, starts with the platform
      maxReplicas: 5
      idleSeconds: 30              # back to zero this long after the last call
      scaleDownWindowSeconds: 10   # the scale-down stabilization window

Its policy (`policy_spec`) targets `FunctionPool/<namespace>.<name>` and holds
`instruments.concurrency_query` at `concurrency` per instance (AverageValue), with activation
threshold 0: one call queued at zero is enough to wake it, and the gateway's wake signal does so at
once rather than at the next tick.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic.alias_generators import to_camel

from scaleplane.functions import instruments, routes

KIND = "Function"
NAME = Annotated[str, Field(min_length=1, max_length=63, pattern=f"^{routes.NAME_PATTERN}$")]


class LocalFunctionSpec(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True)

    handler: Annotated[str, Field(min_length=1)]
    concurrency: Annotated[float, Field(gt=0, allow_inf_nan=False)] = 10.0
    min_replicas: Annotated[int, Field(ge=0)] = 0
    max_replicas: Annotated[int, Field(ge=1, le=50)] = 10
    idle_seconds: Annotated[int, Field(ge=0, le=86400)] = 300
    scale_down_window_seconds: Annotated[int, Field(ge=0, le=3600)] = 60

    @model_validator(mode="after")
    def _consistent(self) -> LocalFunctionSpec:
        if self.max_replicas < self.min_replicas:
            raise ValueError(
                f"maxReplicas must be >= minReplicas, was {self.max_replicas} < {self.min_replicas}"
            )
        return self


@dataclass(frozen=True)
class FunctionDefinition:
    key: routes.FunctionKey
    spec: LocalFunctionSpec
    source: Path  # the file it came from: a relative handler path is relative to it

    @property
    def pool_name(self) -> str:
        return f"{self.key.namespace}.{self.key.name}"

    @property
    def handler_reference(self) -> str:
        target, colon, attribute = self.spec.handler.partition(":")
        if target.endswith(".py") and not Path(target).is_absolute():
            target = str((self.source.parent / target).resolve())
        return f"{target}{colon}{attribute}"


class DefinitionError(ValueError):
    pass


def parse(document: dict[str, Any], where: str, source: Path) -> FunctionDefinition:
    """A `kind: Function` document -> a definition; errors name `where` and the field."""
    metadata = document.get("metadata") or {}
    problems = []
    for field in ("name", "namespace"):
        value = metadata.get(field)
        if not isinstance(value, str) or not _valid_name(value):
            problems.append(f"{where}: metadata.{field}: must be a DNS label (a-z, 0-9, -), was {value!r}")
    try:
        spec = LocalFunctionSpec.model_validate(document.get("spec"))
    except ValidationError as exc:
        for err in exc.errors():
            path = ".".join(str(p) for p in ("spec", *err["loc"]))
            what = "is required" if err["type"] == "missing" else f"{err['msg']}, was {err.get('input')!r}"
            problems.append(f"{where}: {path}: {what.removeprefix('Value error, ')}")
        spec = None
    if problems or spec is None:
        raise DefinitionError("; ".join(problems))
    return FunctionDefinition(routes.FunctionKey(metadata["namespace"], metadata["name"]), spec, source)


def _valid_name(value: str) -> bool:
    import re

    return re.fullmatch(routes.NAME_PATTERN, value) is not None and len(value) <= 63


def policy_name(definition: FunctionDefinition) -> str:
    return f"fn-{definition.key.namespace}-{definition.key.name}"


def policy_spec(definition: FunctionDefinition) -> dict[str, Any]:
    """The ScalingPolicy spec (camelCase) that scales the function's pool on the gateway's series."""
    spec = definition.spec
    return {
        "targetRef": {
            "apiVersion": "local.scaleplane.io/v1alpha1",
            "kind": "FunctionPool",
            "name": definition.pool_name,
        },
        "minReplicas": spec.min_replicas,
        "maxReplicas": spec.max_replicas,
        "metrics": [
            {
                "name": "concurrency",
                "query": instruments.concurrency_query(definition.key.namespace, definition.key.name),
                "target": {"type": "AverageValue", "value": spec.concurrency},
                "activationThreshold": 0.0,
            }
        ],
        "cooldownSeconds": spec.idle_seconds,
        "behavior": {
            "scaleUp": {
                "stabilizationWindowSeconds": 0,
                "policies": [{"type": "Pods", "value": 4, "periodSeconds": 5}],
            },
            "scaleDown": {
                "stabilizationWindowSeconds": spec.scale_down_window_seconds,
                "policies": [{"type": "Percent", "value": 100, "periodSeconds": 5}],
            },
        },
    }
