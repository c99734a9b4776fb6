"""What a simulation gives back: per-tick timelines and the measured outcome of one run (`simulation`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from scaleplane.scaling.simulating import oracle


@dataclass(frozen=True)
class Timeline:
    """Per tick: the offset (s from the trace's start), demand (units/s), billed and ready replicas.

    Tuples, or read-only run views (simulating.runlengths.Ticks) when the demand came as runs: both index,
    slice, iterate and measure `len` per tick.
    """

    at: Sequence[float]
    demand: Sequence[float]
    replicas: Sequence[int]
    ready: Sequence[int]
    backlog: Sequence[float]


@dataclass(frozen=True)
class Outcome:
    name: str
    replica_hours: float
    slo_violation_minutes: float
    scale_events: int
    overload_work_fraction: float
    peak_replicas: int
    oracle: oracle.OraclePlan
    timeline: Timeline
    reasons: Mapping[str, int] = field(default_factory=dict)
    shortfall_minutes: float = 0.0
    late_work_fraction: float = 0.0
    oracle_slo_violation_minutes: float = 0.0

    def summary(self) -> dict[str, Any]:
        """The public JSON keys of `scaleplane simulate --json` for one run."""
        return {
            "name": self.name,
            "replica_hours": round(self.replica_hours, 4),
            "slo_violation_minutes": round(self.slo_violation_minutes, 4),
            "oracle_replica_hours": round(self.oracle.replica_hours, 4),
            "oracle_ratio": round(self.replica_hours / self.oracle.replica_hours, 4)
            if self.oracle.replica_hours > 0
            else None,
            "oracle_slo_violation_minutes": round(self.oracle_slo_violation_minutes, 4),
            "shortfall_minutes": round(self.shortfall_minutes, 4),
            "oracle_shortfall_minutes": round(self.oracle.slo_violation_minutes, 4),
            "scale_events": self.scale_events,
            "overload_work_fraction": round(self.overload_work_fraction, 6),
            "late_work_fraction": round(self.late_work_fraction, 6),
            "peak_replicas": self.peak_replicas,
            "decision_reasons": dict(sorted(self.reasons.items())),
        }
