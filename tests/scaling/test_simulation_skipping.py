"""Run-length stepping (simulating.skipping): skipping a quiet span gives exactly what stepping gives.

Every Outcome field is compared (the timelines tick by tick, the decision reasons, the SLO minutes), over
random policies (every knob the engine has, the non-skippable ones included) and random piecewise-constant
traces with long zero and constant spans.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scaleplane.scaling import decisions, specs
from scaleplane.scaling.deciding import engine
from scaleplane.scaling.simulating import presets, simulation, skipping

EXAMPLES = int(os.environ.get("SCALEPLANE_HYPOTHESIS_EXAMPLES", "25"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MODEL = simulation.TargetModel()

rates = st.fixed_dictionaries(
    {
        "type": st.sampled_from(["Pods", "Percent"]),
        "value": st.integers(1, 300),
        "periodSeconds": st.integers(1, 600),
    }
)
rules = st.fixed_dictionaries(
    {
        "stabilizationWindowSeconds": st.integers(0, 600),
        "policies": st.lists(rates, min_size=1, max_size=2),
        "selectPolicy": st.sampled_from(["Max", "Min", "Disabled"]),
    }
)


@st.composite
def policies(draw: st.DrawFn) -> specs.ScalingPolicySpec:
    low = draw(st.integers(0, 3))
    query = draw(st.sampled_from(["sum(rate(requests_total[1m]))", "sum(rate(r[2m]))", "queue_depth"]))
    data: dict[str, Any] = {
        "targetRef": {"name": "w"},
        "minReplicas": low,
        "maxReplicas": draw(st.integers(max(low, 1), 80)),
        "metrics": [
            {
                "name": "m",
                "query": query,
                "target": {"type": "AverageValue", "value": draw(st.floats(0.05, 2.0))},
                "activationThreshold": draw(st.sampled_from([0.0, 0.5])),
            }
        ],
        "behavior": {"scaleUp": draw(rules), "scaleDown": draw(rules)},
        "cooldownSeconds": draw(st.integers(0, 600)),
    }
    if draw(st.booleans()):
        data["sizing"] = {"quantile": draw(st.floats(0.5, 0.99)), "windowSeconds": draw(st.integers(30, 600))}
        if draw(st.integers(0, 3)) == 0:  # not skippable (its histogram is no fixed point): must still agree
            data["sizing"] |= {"method": "rise", "horizonSeconds": draw(st.integers(15, 120))}
        elif draw(st.integers(0, 2)) == 0:  # a function of the reading alone: skippable like no sizing
            data["sizing"] = {"method": "sqrt", "beta": draw(st.floats(0, 3))}
    if draw(st.booleans()):
        data["burst"] = {"threshold": draw(st.floats(1.1, 4)), "holdSeconds": draw(st.integers(15, 300))}
    if draw(st.integers(0, 3)) == 0:  # holt and last skip (the error tracking moves); holt-winters never
        model = draw(st.sampled_from(["holt", "holt", "last", "holt-winters"]))
        data["forecast"] = {
            "model": model,
            "startupSeconds": draw(st.sampled_from([15, 60])),
            "historySeconds": 300,
        }
        if model == "holt-winters":
            data["forecast"]["seasonSeconds"] = 3600
        if draw(st.booleans()):
            data["forecast"]["errorQuantile"] = draw(st.sampled_from([0.3, 0.5, 0.9]))
    return specs.parse_policy(data)


segments = st.lists(
    st.tuples(st.sampled_from([0.0, 0.0, 0.1, 1.0, 3.7, 12.5]), st.integers(1, 160)), min_size=1, max_size=6
)


def both(spec: specs.ScalingPolicySpec, demand: list[float], **kw: Any) -> list[simulation.Outcome]:
    return [simulation.simulate(spec, demand, model=MODEL, skip=skip, **kw) for skip in (True, False)]


@SETTINGS
@given(spec=policies(), parts=segments, start=st.integers(0, 10**9), sync=st.sampled_from([15.0, 30.0]))
def test_skipping_gives_exactly_the_stepped_outcome(
    spec: specs.ScalingPolicySpec, parts: list[tuple[float, int]], start: int, sync: float
) -> None:
    demand = [value for value, length in parts for _ in range(length)]
    skipped, stepped = both(spec, demand, start=float(start), sync_seconds=sync)
    assert skipped == stepped


@SETTINGS
@given(parts=segments, family=st.sampled_from(["hpa", "keda", "recommended", "forecast"]))
def test_the_presets_skip_exactly_too(parts: list[tuple[float, int]], family: str) -> None:
    mine = presets.recommended(MODEL, min_replicas=1, max_replicas=60)
    preset = {"hpa": presets.hpa_default, "keda": presets.keda_default}.get(family, lambda s: None)(mine)
    spec, sync = (preset.spec, preset.sync_seconds) if preset else (mine, 15.0)
    if family == "forecast":
        spec = presets.forecasting(MODEL, min_replicas=1, max_replicas=60)
    demand = [value for value, length in parts for _ in range(length)]
    skipped, stepped = both(spec, demand, sync_seconds=sync)
    assert skipped == stepped


@pytest.mark.parametrize(
    ("family", "idle", "reason", "steps_idle"),
    [("keda", 0, "idle", 100), ("hpa", 1, "min_replicas", 100), ("forecast", 1, "min_replicas", 8000)],
)
def test_a_long_idle_span_is_skipped_not_stepped(
    family: str, idle: int, reason: str, steps_idle: int
) -> None:
    # a day of load, 60,000 ticks (ten days) of nothing, a day of load: stepping calls decide per tick.
    # The forecast's error tracking steps until its mean squared error has decayed to a fixed point
    # (0.9 per check: about 7,000 checks from 1 to the smallest float), then skips.
    day = [2.0 + (k % 240) / 60 for k in range(1440)]
    demand = day + [0.0] * 60_000 + day
    steps: list[int] = []
    mine = presets.recommended(MODEL, max_replicas=60)
    if family == "forecast":
        preset = presets.Preset("forecast", presets.forecasting(MODEL, max_replicas=60), 15.0, "forecast")
    else:
        preset = {"hpa": presets.hpa_default, "keda": presets.keda_default}[family](mine)
    outcome = simulation.simulate(
        preset.spec,
        demand,
        model=MODEL,
        sync_seconds=preset.sync_seconds,
        on_tick=lambda done, total: steps.append(done),
    )
    assert len(steps) < 2 * len(day) + steps_idle  # the idle span costs a handful of steps
    assert outcome.timeline.replicas[len(day) + 1000 : len(day) + 60_000] == (idle,) * 59_000
    assert outcome.reasons[reason] > 25_000  # every skipped sync tick counts its reason


def test_what_cannot_be_moved_in_time_is_never_skipped() -> None:
    scheduled = specs.parse_policy(
        {
            "targetRef": {"name": "w"},
            "maxReplicas": 5,
            "metrics": [{"name": "m", "query": "q", "target": {"value": 1}}],
            "schedules": [{"name": "s", "cron": "0 9 * * *", "durationSeconds": 60, "minReplicas": 3}],
        }
    )
    assert not skipping.skippable(scheduled, 0.0, 15.0, 100)
    plain = scheduled.model_copy(update={"schedules": ()})
    assert skipping.skippable(plain, 0.0, 15.0, 100)
    assert not skipping.skippable(plain, 0.5, 15.0, 100)  # start not a whole second: times would round
    assert not skipping.skippable(plain, 0.0, 7.5, 100)
    burst = decisions.ScalingState(extra={"burst": {"until": 10.0, "peak": 3}})
    assert skipping.moved(plain, burst, 15.0, 0.0) is None
    assert skipping.fixed_point_checks(plain, burst, burst, 15.0, 15.0) is None
    # a replaced `decide` (tests watching what the engine sees) is always stepped
    calls: list[float] = []

    def watched(*args: Any) -> Any:
        calls.append(args[3])
        return engine.decide(*args)

    simulation.simulate(plain, [0.0] * 400, model=MODEL, decide=watched)
    assert len(calls) == 400
