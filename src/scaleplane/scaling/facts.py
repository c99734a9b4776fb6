"""What every tick reads from a policy spec and that depends on the spec alone, worked out once per spec.

Specs are frozen pydantic models, so a value derived from one never goes stale: `of(spec)` computes the
Facts the first time it meets a spec object and returns the same Facts after that. The cache holds the
spec itself (an id is never reused while its object lives) and is emptied past `CACHE_SIZE` specs, so
an operator that parses its policies again at every tick pays one computation per policy and tick,
which is what it paid before. A sweep, which runs one spec for 40,000 ticks, pays it once.
"""

from __future__ import annotations

from dataclasses import dataclass

from scaleplane.scaling import specs
from scaleplane.scaling.deciding import behaviors, recommending

CACHE_SIZE = 4096


@dataclass(frozen=True)
class Facts:
    tolerances: recommending.Tolerances
    longest_window: int  # behaviors.longest_window: how long the remembered recommendations live
    longest_period: int  # behaviors.longest_period: how long the scale events live
    history_seconds: int  # remembering.history_seconds: how much metric history is kept (0: none)
    any_resource: bool  # some metric reads pods (resources.resolved has work to do)
    forecasting: bool  # spec.forecast is set and enabled
    actuate: bool  # neither paused nor dryRun
    levels: dict[str, specs.MetricTarget]  # each metric's level (MetricSpec.level builds one per call)
    metrics: dict[str, specs.MetricSpec]  # by name


_CACHE: dict[int, tuple[specs.ScalingPolicySpec, Facts]] = {}


def of(spec: specs.ScalingPolicySpec) -> Facts:
    found = _CACHE.get(id(spec))
    if found is not None and found[0] is spec:
        return found[1]
    if len(_CACHE) >= CACHE_SIZE:
        _CACHE.clear()
    facts = _derive(spec)
    _CACHE[id(spec)] = (spec, facts)
    return facts


def _derive(spec: specs.ScalingPolicySpec) -> Facts:
    forecast = spec.forecast.history_seconds if spec.forecast is not None and spec.forecast.enabled else 0
    return Facts(
        tolerances=recommending.tolerances_of(spec),
        longest_window=behaviors.longest_window(spec.behavior),
        longest_period=behaviors.longest_period(spec.behavior),
        history_seconds=max(forecast, spec.sizing.history_seconds if spec.sizing is not None else 0),
        any_resource=any(m.is_resource for m in spec.metrics),
        forecasting=spec.forecast is not None and spec.forecast.enabled,
        actuate=not (spec.paused or spec.dry_run),
        levels={m.name: m.level for m in spec.metrics},
        metrics={m.name: m for m in spec.metrics},
    )
