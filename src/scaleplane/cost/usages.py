"""Usage-based quantities (data processed, log volume, backups, storage growth) from a usage file.

The file follows Infracost's usage file: `version: 0.1`, `resource_usage` keyed by resource name and
`resource_type_default_usage` keyed by resource type (Pulumi type tokens here), each a map of usage key
to number. A resource's own entry wins over its type's default. The keys scaleplane reads:

    aws:ec2/natGateway:NatGateway            monthly_data_processed_gb
    aws:cloudwatch/logGroup:LogGroup         monthly_data_ingested_gb, storage_gb
    aws:rds/instance:Instance                storage_gb (the average allocated GB, storage autoscaling
                                             included), additional_backup_storage_gb
    aws:elasticache/replicationGroup:...     snapshot_storage_size_gb
    aws:lb/loadBalancer:LoadBalancer         capacity_units (average LCUs per hour)

A key the file does not set leaves its component usage-based and unpriced in the totals; it is
never taken as 0.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

KNOWN_KEYS = frozenset(
    {
        "monthly_data_processed_gb",
        "monthly_data_ingested_gb",
        "storage_gb",
        "additional_backup_storage_gb",
        "snapshot_storage_size_gb",
        "capacity_units",
    }
)


class UsageError(ValueError):
    """A bad usage file: the message names the file, the resource and the key."""


@dataclass(frozen=True)
class Usage:
    by_name: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    by_type: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    source: str = ""

    def get(self, type_: str, name: str, key: str) -> float | None:
        for table, entry in ((self.by_name, name), (self.by_type, type_)):
            values = table.get(entry)
            if values is not None and key in values:
                return values[key]
        return None


def parse(data: Any, source: str) -> Usage:
    """Validate a loaded usage file (the YAML as Python values)."""
    if not isinstance(data, dict):
        raise UsageError(
            f"{source}: expected a mapping with resource_usage and/or resource_type_default_usage"
        )
    unknown = sorted(set(data) - {"version", "resource_usage", "resource_type_default_usage"})
    if unknown:
        raise UsageError(f"{source}: unknown top-level key {unknown[0]!r}")
    return Usage(
        by_name=_tables(data.get("resource_usage") or {}, f"{source}: resource_usage"),
        by_type=_tables(
            data.get("resource_type_default_usage") or {}, f"{source}: resource_type_default_usage"
        ),
        source=source,
    )


def _tables(raw: Any, where: str) -> dict[str, dict[str, float]]:
    if not isinstance(raw, dict):
        raise UsageError(f"{where}: expected a mapping of resource -> usage, was {raw!r}")
    tables: dict[str, dict[str, float]] = {}
    for resource, values in raw.items():
        if not isinstance(values, dict):
            raise UsageError(f"{where}.{resource}: expected a mapping of usage key -> number, was {values!r}")
        table: dict[str, float] = {}
        for key, value in values.items():
            if key not in KNOWN_KEYS:
                raise UsageError(
                    f"{where}.{resource}.{key}: unknown usage key (known: {', '.join(sorted(KNOWN_KEYS))})"
                )
            number = value if isinstance(value, int | float) and not isinstance(value, bool) else None
            if number is None or not math.isfinite(number) or number < 0:
                raise UsageError(f"{where}.{resource}.{key}: must be a number >= 0, was {value!r}")
            table[key] = float(number)
        tables[str(resource)] = table
    return tables
