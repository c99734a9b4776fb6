"""`spec.metrics[]`: what a policy reads, a PromQL query or the pods' cpu or memory, and the level to hold.

A query metric is held at `target` (as a whole, or per ready replica); a Resource metric at a share of
the pods' requests or a usage per pod, as the HPA's replica calculator holds it. Either way the engine
reads one `level` (`MetricSpec.level`), so the forecast, sizing and burst rules need not tell them apart.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator

from scaleplane.inputs import quantities as input_quantities
from scaleplane.scaling.specs import fields


class MetricTarget(fields.SpecModel):
    """`Value`: the query's result as a whole is held at `value`; `AverageValue`: result / ready replicas."""

    type: Literal["Value", "AverageValue"] = "AverageValue"
    value: Annotated[float, Field(gt=0, allow_inf_nan=False)]


class ResourceTarget(fields.SpecModel):
    """The HPA's target of a Resource metric: a percentage of the pods' requests, or a usage per pod."""

    type: Literal["Utilization", "AverageValue"]
    average_utilization: Annotated[int, Field(ge=1)] | None = None
    average_value: fields.Quantity | None = None

    @model_validator(mode="after")
    def _one_target(self) -> ResourceTarget:
        wanted, other = (
            ("averageUtilization", "averageValue")
            if self.type == "Utilization"
            else ("averageValue", "averageUtilization")
        )
        given = {"averageUtilization": self.average_utilization, "averageValue": self.average_value}
        if given[wanted] is None:
            raise ValueError(f"type {self.type} needs {wanted}")
        if given[other] is not None:
            raise ValueError(f"type {self.type} takes {wanted}, not {other} (was {given[other]!r})")
        return self

    @property
    def level(self) -> float:
        """Percent of the requests (Utilization), or cores / bytes per pod (AverageValue)."""
        if self.average_utilization is not None:
            return float(self.average_utilization)
        assert self.average_value is not None  # _one_target guarantees one of the two
        return input_quantities.value_of(self.average_value)


class ResourceSource(fields.SpecModel):
    """`resource`: which resource of the target's pods (all containers, or one) and the level to hold."""

    name: Literal["cpu", "memory"]
    container: (
        Annotated[
            str,
            AfterValidator(fields.check_container),
            Field(json_schema_extra={"pattern": fields.CONTAINER_NAME.pattern, "maxLength": 63}),
        ]
        | None
    ) = None
    target: ResourceTarget


class MetricSpec(fields.SpecModel):
    """One metric: a PromQL `query` and the level to hold it at, or (`type: Resource`) the CPU or
    memory of the target's pods against their requests, computed as the HPA's replica calculator does.

    `activationThreshold` is KEDA's: at zero replicas the target is woken only when the query's value
    is strictly above it, and it is let go to zero only while the value stays at or below it. A
    Resource metric has none: at zero replicas there are no pods to read (as in KEDA, cpu and memory
    never wake a target), so a policy of Resource metrics only needs minReplicas >= 1.
    """

    name: Annotated[str, Field(min_length=1, max_length=63, pattern=r"^[a-zA-Z_][a-zA-Z0-9_\-]*$")]
    type: Annotated[
        Literal["Resource"] | None,
        Field(description="Resource: the pods' cpu or memory (see resource); left out: a PromQL query"),
    ] = None
    query: Annotated[str, Field(min_length=1)] | None = None
    target: MetricTarget | None = None
    resource: ResourceSource | None = None
    activation_threshold: Annotated[float, Field(ge=0, allow_inf_nan=False)] = 0.0

    @model_validator(mode="after")
    def _query_or_resource(self) -> MetricSpec:
        if self.type == "Resource":
            extra = [key for key, v in (("query", self.query), ("target", self.target)) if v is not None]
            if self.resource is None:
                raise ValueError("type Resource needs resource (name cpu or memory, and a target)")
            if extra:
                raise ValueError(
                    f"a Resource metric reads the pods' usage: {' and '.join(extra)} is for query "
                    "metrics (the level goes in resource.target)"
                )
            if self.activation_threshold:
                raise ValueError("a Resource metric has no activationThreshold (no pods to read at zero)")
            return self
        if self.resource is not None:
            raise ValueError("resource needs type: Resource")
        missing = [key for key, v in (("query", self.query), ("target", self.target)) if v is None]
        if missing:
            raise ValueError(f"needs {' and '.join(missing)} (or type: Resource with resource)")
        return self

    @property
    def is_resource(self) -> bool:
        return self.resource is not None

    @property
    def level(self) -> MetricTarget:
        """The level the metric is held at, as a target the forecast, sizing and burst rules read.

        A Resource metric is a per-pod level (percent of the requests, or usage per pod) and the HPA's
        formula for it, ceil(level / target x ready pods), is the `Value` formula: it is held as one.
        """
        if self.resource is not None:
            return MetricTarget(type="Value", value=self.resource.target.level)
        assert self.target is not None  # _query_or_resource guarantees it
        return self.target
