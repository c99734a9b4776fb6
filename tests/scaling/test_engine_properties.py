"""Properties over random policies and random (often broken) metric streams, closed loop.

1. decide never raises, whatever the values: NaN, ±Inf, negative, huge, failed reads, missing samples
   (with every knob drawn: forecast and its error quantile, quantile sizing, burst mode, schedules).
2. the count never leaves [minReplicas, maxReplicas]; 0 only with minReplicas 0 (KEDA's scale to zero).
3. a constant load never makes the count change direction (no flapping).
"""

from __future__ import annotations

import itertools
import math
import os
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scaleplane.scaling import decisions, specs
from scaleplane.scaling.deciding import engine

# 150 examples keep CI quick; SCALEPLANE_HYPOTHESIS_EXAMPLES=2000 searches harder.
EXAMPLES = int(os.environ.get("SCALEPLANE_HYPOTHESIS_EXAMPLES", "150"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])

rates = st.fixed_dictionaries(
    {
        "type": st.sampled_from(["Pods", "Percent"]),
        "value": st.integers(1, 300),
        "periodSeconds": st.integers(1, 120),
    }
)


def rules() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {
            "stabilizationWindowSeconds": st.integers(0, 600),
            "policies": st.lists(rates, min_size=1, max_size=3),
            "selectPolicy": st.sampled_from(["Max", "Min", "Disabled"]),
            "tolerance": st.floats(0, 0.5),
        }
    )


@st.composite
def policies(draw: st.DrawFn) -> specs.ScalingPolicySpec:
    low = draw(st.integers(0, 5))
    high = draw(st.integers(max(low, 1), 60))
    names = draw(st.lists(st.sampled_from(["a", "b", "c"]), min_size=1, max_size=3, unique=True))
    metrics = [
        {
            "name": name,
            "query": f"q_{name}",
            "target": {
                "type": draw(st.sampled_from(["Value", "AverageValue"])),
                "value": draw(st.floats(0.01, 1e4)),
            },
            "activationThreshold": draw(st.floats(0, 50)),
        }
        for name in names
    ]
    data: dict[str, Any] = {
        "targetRef": {"name": "w"},
        "minReplicas": low,
        "maxReplicas": high,
        "metrics": metrics,
        "behavior": {"scaleUp": draw(rules()), "scaleDown": draw(rules())},
        "cooldownSeconds": draw(st.integers(0, 600)),
    }
    fallback = draw(st.sampled_from([None, "hold", "replicas"]))
    if fallback:
        data["fallback"] = {"failureThreshold": draw(st.integers(1, 4)), "action": fallback}
        data["fallback"]["replicas"] = draw(st.integers(0, 100))
    if draw(st.booleans()):
        data["forecast"] = {
            "model": draw(st.sampled_from(["holt", "holt-winters", "last"])),
            "startupSeconds": draw(st.integers(0, 300)),
            "historySeconds": 300,
            "seasonSeconds": 600,
            "errorQuantile": draw(st.sampled_from([None, 0.2, 0.5, 0.9])),
        }
    if draw(st.booleans()):
        data["sizing"] = {
            "quantile": draw(st.floats(0.5, 0.999)),
            "windowSeconds": draw(st.integers(30, 600)),
        }
        if draw(st.booleans()):
            data["sizing"] |= {"method": "rise", "horizonSeconds": draw(st.integers(15, 300))}
        elif draw(st.booleans()):
            data["sizing"] = {"method": "sqrt", "beta": draw(st.floats(0, 10))}
    if draw(st.booleans()):
        data["burst"] = {"threshold": draw(st.floats(1.01, 10)), "holdSeconds": draw(st.integers(15, 300))}
    if draw(st.booleans()):
        data["schedules"] = [{"name": "s", "cron": "*/7 * * * *", "durationSeconds": 120, "minReplicas": 8}]
    return specs.parse_policy(data)


values = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(-1e3, 1e6),
    st.none(),  # a failed read
    st.just("missing"),  # no sample at all
)


@SETTINGS
@given(
    spec=policies(),
    start=st.integers(0, 130),
    ticks=st.lists(st.tuples(st.floats(0.5, 120), st.lists(values, min_size=3, max_size=3)), max_size=25),
)
def test_never_crashes_and_never_leaves_the_bounds(
    spec: specs.ScalingPolicySpec, start: int, ticks: list[tuple[float, list[Any]]]
) -> None:
    state, current, now = decisions.ScalingState(), start, 1_700_000_000.0
    for gap, raw_values in ticks:
        now += gap
        samples = tuple(
            decisions.MetricSample(m.name, v, None if v is not None else "failed")
            for m, v in zip(spec.metrics, raw_values, strict=False)
            if v != "missing"
        )
        observation = decisions.Observation(now, current, max(0, current - 1), samples)
        decision, state = engine.decide(spec, observation, state, now)
        assert 0 <= decision.desired <= spec.max_replicas
        assert decision.desired >= spec.min_replicas
        assert decision.desired > 0 or spec.min_replicas == 0
        assert decision.reason and decision.message
        current = decision.desired


@SETTINGS
@given(
    spec=policies(),
    load=st.one_of(st.just(0.0), st.floats(1e-6, 5e4)),  # no subnormals: load / 2 must not underflow to 0
    start=st.integers(1, 60),
    tick=st.sampled_from([15.0, 30.0]),
)
def test_a_constant_load_never_flaps(
    spec: specs.ScalingPolicySpec, load: float, start: int, tick: float
) -> None:
    # The load is constant; what a metric reads follows its type: AverageValue metrics read the total,
    # Value metrics read the load per replica (as a utilisation does). Such a per-replica reading cannot
    # carry an activation threshold (it would read low at N replicas and high at 0: docs/engine.md says
    # to use totals for scale to zero), so Value metrics get none here.
    metrics = tuple(
        m if m.target.type == "AverageValue" else m.model_copy(update={"activation_threshold": 0.0})
        for m in spec.metrics
    )
    spec = spec.model_copy(update={"schedules": (), "metrics": metrics})
    state, current = decisions.ScalingState(), min(start, spec.max_replicas)
    counts = [current]
    for i in range(60):
        now = i * tick
        samples = tuple(
            decisions.MetricSample(
                m.name, load if m.target.type == "AverageValue" else load / max(current, 1)
            )
            for m in spec.metrics
        )
        decision, state = engine.decide(
            spec, decisions.Observation(now, current, current, samples), state, now
        )
        current = decision.desired
        counts.append(current)
    steps = [b - a for a, b in itertools.pairwise(counts) if b != a]
    assert all(s > 0 for s in steps) or all(s < 0 for s in steps), counts
    assert not math.isnan(sum(counts))
