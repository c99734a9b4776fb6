"""The seam between the control loop and wherever metric values come from.

A tick asks for every distinct query of every policy at once; a source answers each query with a
value or an error, never raises for a single bad query. Prometheus is the production source
(`scaleplane.metrics.prometheus`); tests and the simulator may bring their own.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class QueryResult:
    """One query's answer: a single finite value, or `error` saying why there is none."""

    value: float | None
    error: str | None = None


class MetricsSource(Protocol):
    async def fetch(self, queries: Collection[str]) -> Mapping[str, QueryResult]:
        """Answer every query (already deduplicated by the caller or not: the source dedupes too)."""
        ...


@dataclass(frozen=True)
class SeriesResult:
    """One query's answer as every series it returned: (labels, value) pairs, or `error`."""

    series: tuple[tuple[Mapping[str, str], float], ...] = ()
    error: str | None = None


class SeriesSource(Protocol):
    async def fetch_series(self, queries: Collection[str]) -> Mapping[str, SeriesResult]:
        """Answer every query with all of its series (the per-pod reads of Resource metrics)."""
        ...
