"""The whole stack config, `PlatformConfig`: the target, the environment, the tags, one part per key
(`resources`, `services`) and the cost settings, with the rules that span two parts.

Settings left at `None` ("auto") follow the environment: production environments get Multi-AZ and
deletion protection, others do not, so a dev stack stays cheap and disposable without extra keys.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from scaleplane.infra.config import fields, resources, services

PRODUCTION_ENVIRONMENTS = frozenset({"prod", "production"})


class NodePriceConfig(fields.ConfigModel):
    """What one node of a cluster you already run costs: prices Kubernetes stacks by their requests."""

    hourly_usd: Annotated[float, Field(gt=0)]
    vcpu: Annotated[float, Field(gt=0)]
    memory_gib: Annotated[float, Field(gt=0)]


class CostConfig(fields.ConfigModel):
    """Read by `scaleplane cost` and the budget guardrail, not by the Pulumi program."""

    monthly_budget_usd: Annotated[float, Field(gt=0)] | None = None  # None: no budget rule
    node_price: NodePriceConfig | None = None  # Kubernetes stacks: None leaves their pods unpriced


class PlatformConfig(fields.ConfigModel):
    target: Literal["aws", "kubernetes"] = "kubernetes"
    environment: Annotated[str, Field(min_length=1, pattern=r"^[a-z0-9-]+$")] = "dev"
    # pydantic copies a mutable default per instance; ruff cannot see ConfigModel is a pydantic model.
    tags: dict[str, str] = {}  # noqa: RUF012
    cluster: resources.ClusterConfig = resources.ClusterConfig()
    database: resources.DatabaseConfig = resources.DatabaseConfig()
    cache: resources.CacheConfig = resources.CacheConfig()
    monitoring: services.MonitoringConfig = services.MonitoringConfig()
    operator: services.OperatorConfig = services.OperatorConfig()
    cost: CostConfig = CostConfig()

    @property
    def production(self) -> bool:
        return self.environment in PRODUCTION_ENVIRONMENTS

    @property
    def resource_tags(self) -> dict[str, str]:
        """The tags every taggable resource carries; `environment` always comes from the environment key."""
        return {**self.tags, "environment": self.environment, "managed-by": "scaleplane"}

    # A rule across parts raises its message with the key path first (`parsing` keeps it as written).
    @model_validator(mode="after")
    def _policy_bounds(self) -> PlatformConfig:
        ceiling = self.operator.max_replicas_ceiling
        for path, policy in (
            ("operator.workers.policy", self.operator.workers.policy),
            ("operator.readReplicas", self.operator.read_replicas),
        ):
            if policy.max_replicas < policy.min_replicas:
                raise ValueError(
                    f"{path}: maxReplicas must be >= minReplicas, "
                    f"was {policy.max_replicas} < {policy.min_replicas}"
                )
            if policy.max_replicas > ceiling:
                raise ValueError(
                    f"{path}: maxReplicas must be <= operator.maxReplicasCeiling ({ceiling}), "
                    f"was {policy.max_replicas}"
                )
        return self
