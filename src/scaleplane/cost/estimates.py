"""What an estimate is: resources with their cost components, and the Infracost JSON shape of it.

A component is one billed quantity at one catalog price (instance hours, GB-months of storage). Its
monthly quantity is None when it is usage-based and the usage file gives no value (Infracost shows
those with no cost rather than inventing one); its price is None when the catalog has none, which
makes the whole resource *unpriced*. Totals add priced components only and say how many were left out.

Autoscaled parts carry ranges: the bounds of their replicas and the count a replay of their policy
expects, priced per replica; `Estimate.total_range` moves each part from what the plan prices to
those counts. The Infracost JSON of an estimate is `cost.infracost`'s job.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from scaleplane.cost import catalogs

Status = Literal["priced", "free", "unpriced"]


@dataclass(frozen=True)
class Item:
    """One planned resource, as `scaleplane plan` records it (engine input names)."""

    type: str
    name: str
    inputs: dict[str, Any]


@dataclass(frozen=True)
class Component:
    name: str
    unit: str  # what the quantity counts: hours, GB, months
    monthly_quantity: float | None  # None: usage-based and not given in the usage file
    price: catalogs.Price | None  # None: the catalog has no price for it
    usage_key: str = ""  # the usage-file key that sets the quantity, for usage-based components

    @property
    def monthly_cost(self) -> float | None:
        if self.price is None or self.monthly_quantity is None:
            return None
        return self.monthly_quantity * self.price.usd

    @property
    def hourly_quantity(self) -> float | None:
        if self.monthly_quantity is None:
            return None
        return self.monthly_quantity / catalogs.HOURS_PER_MONTH


@dataclass(frozen=True)
class Range:
    """An autoscaled part priced at its bounds and at what a replay of its policy expects."""

    what: str  # "nodes", "read replicas", "worker pods"
    min_replicas: int
    max_replicas: int
    expected_replicas: float
    planned_replicas: float  # the count the resource's own components already price
    unit_monthly_usd: float  # one replica for a month
    basis: str  # where `expected` comes from: "desiredSize", "the plan", "trace FILE replayed"
    in_total: bool = True  # False when the part is a share of something already priced (pods on nodes)

    def monthly(self, replicas: float) -> float:
        return replicas * self.unit_monthly_usd


@dataclass(frozen=True)
class ResourceCost:
    name: str
    resource_type: str
    status: Status
    components: tuple[Component, ...] = ()
    note: str = ""  # why a resource is free or unpriced
    ranges: tuple[Range, ...] = ()

    @property
    def monthly_cost(self) -> float:
        return sum(c.monthly_cost or 0.0 for c in self.components)

    @property
    def usage_missing(self) -> list[Component]:
        return [c for c in self.components if c.monthly_quantity is None and c.price is not None]


@dataclass(frozen=True)
class Estimate:
    project: str
    stack: str
    region: str
    resources: tuple[ResourceCost, ...]
    catalog_note: str = ""
    usage_file: str = ""
    sources: tuple[catalogs.Price, ...] = field(default_factory=tuple)

    def with_status(self, status: Status) -> list[ResourceCost]:
        return [r for r in self.resources if r.status == status]

    @property
    def monthly_cost(self) -> float:
        return sum(r.monthly_cost for r in self.resources)

    @property
    def hourly_cost(self) -> float:
        return self.monthly_cost / catalogs.HOURS_PER_MONTH

    @property
    def ranges(self) -> list[tuple[ResourceCost, Range]]:
        return [(r, part) for r in self.resources for part in r.ranges]

    def total_range(self) -> tuple[float, float, float]:
        """(min, expected, max) monthly: the fixed part plus every autoscaled part counted in the total."""
        low = expected = high = self.monthly_cost
        for _, part in self.ranges:
            if not part.in_total:
                continue
            planned = part.monthly(part.planned_replicas)
            low += part.monthly(part.min_replicas) - planned
            expected += part.monthly(part.expected_replicas) - planned
            high += part.monthly(part.max_replicas) - planned
        return low, expected, high

    def biggest(self, count: int = 3) -> list[ResourceCost]:
        return sorted(self.with_status("priced"), key=lambda r: -r.monthly_cost)[:count]
