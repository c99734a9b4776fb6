"""Square-root staffing (`sizing.method: sqrt`): n + beta * sqrt(n) replicas, stepped through the engine."""

from __future__ import annotations

import math

import pytest

from scaleplane.scaling import decisions, reasons, specs
from scaleplane.scaling.simulating import simulation
from tests.support.engine_ticks import metric, policy, run

SQRT = {"method": "sqrt", "beta": 0.5}
NO_DOWN_WINDOW = {"scaleDown": {"stabilizationWindowSeconds": 0}}
# No tolerance band and no rate limit: the count is what the recommendation asks for, at once.
EXACT = {
    "scaleUp": {"tolerance": 0, "policies": [{"type": "Percent", "value": 10000, "periodSeconds": 15}]},
    "scaleDown": {"stabilizationWindowSeconds": 0, "tolerance": 0},
}


@pytest.mark.parametrize(("load", "expected"), [(1600.0, 18), (40000.0, 410), (100.0, 2), (25.0, 1)])
def test_a_flat_load_gets_beta_sqrt_n_spare_replicas(load: float, expected: int) -> None:
    # target 100 per replica: 1600 needs n = 16, so 16 + 0.5 x 4 = 18; 40000 needs 400, so 400 + 10
    decided: list[decisions.Decision] = []
    spec = policy(sizing=SQRT, maxReplicas=1000, behavior=EXACT)
    counts = run(spec, [load] * 6, start=math.ceil(load / 100), decisions_out=decided)
    assert counts[-1] == expected == math.ceil(load / 100 + 0.5 * math.sqrt(load / 100))
    if expected > math.ceil(load / 100):
        assert reasons.RULE_SQRT_STAFFING in decided[0].rules
        assert reasons.RULE_QUANTILE not in decided[0].rules
        sized = decided[0].recommendations[0].sized_value
        assert sized == pytest.approx(load * (1 + 0.5 / math.sqrt(load / 100)))


def test_the_spare_share_falls_as_the_load_grows() -> None:
    spec = policy(sizing={"method": "sqrt", "beta": 1.0}, maxReplicas=10_000, behavior=EXACT)
    shares = []
    for needed in (4, 16, 64, 256, 1024):
        count = run(spec, [needed * 100.0] * 3, start=needed)[-1]
        shares.append((count - needed) / needed)
    assert shares == sorted(shares, reverse=True) and shares[0] == 0.5 and shares[-1] == pytest.approx(1 / 32)


def test_a_value_metric_counts_the_replicas_its_reading_stands_for() -> None:
    # a per-replica level of 50 against a target of 10 on 4 ready replicas: n = 50 x 4 / 10 = 20,
    # so 20 + 0.5 x sqrt(20) = 22.2 -> 23 (the HPA's own calculator alone asks for 20)
    spec = policy(metrics=[metric("load", "Value", 10)], sizing=SQRT, behavior=EXACT)
    assert run(spec, [50.0], start=4) == [23]
    assert run(policy(metrics=[metric("load", "Value", 10)], behavior=EXACT), [50.0], start=4) == [20]


def test_beta_zero_no_load_and_failed_reads_add_nothing() -> None:
    assert run(policy(sizing={"method": "sqrt", "beta": 0}), [1600.0] * 3, start=16) == [16] * 3
    assert run(policy(sizing=SQRT, behavior=NO_DOWN_WINDOW), [0.0, None, 0.0], start=1) == [1, 1, 1]


def test_the_tolerance_band_still_holds_a_count_the_spare_is_within() -> None:
    # 400 needed, 410 asked: 2.5 % above the current 400, inside the default 10 % band, as the HPA keeps
    assert run(policy(sizing=SQRT, maxReplicas=1000), [40000.0] * 3, start=400) == [400] * 3


def test_a_constant_load_settles_and_does_not_flap() -> None:
    counts = run(policy(sizing=SQRT, behavior=NO_DOWN_WINDOW), [730.0] * 40, start=1)
    assert len(set(counts[5:])) == 1 and counts[-1] == math.ceil(7.3 + 0.5 * math.sqrt(7.3))


def test_settings_of_another_method_are_named_with_their_value() -> None:
    beta_with_stdev = r"spec.sizing: .*beta is for method sqrt, was 0.7 with method stdev"
    quantile_with_sqrt = r"quantile is for method stdev or rise, was 0.9 with method sqrt"
    with pytest.raises(specs.PolicyError, match=beta_with_stdev):
        policy(sizing={"beta": 0.7})
    with pytest.raises(specs.PolicyError, match=quantile_with_sqrt):
        policy(sizing={"method": "sqrt", "quantile": 0.9})
    with pytest.raises(specs.PolicyError, match=r"spec.sizing.beta: .*10.*was 11"):
        policy(sizing={"method": "sqrt", "beta": 11})
    assert policy(sizing={"method": "sqrt"}).sizing.beta == 0.5  # type: ignore[union-attr]


def test_the_simulator_skips_quiet_spans_under_sqrt_staffing_and_agrees_with_stepping() -> None:
    spec = policy(sizing=SQRT)
    demand = [0.0] * 200 + [300.0] * 50 + [0.0] * 400 + [1200.0] * 30 + [0.0] * 300
    model = simulation.TargetModel(capacity_per_replica=100.0)
    skipped = simulation.simulate(spec, demand, model=model)
    stepped = simulation.simulate(spec, demand, model=model, skip=False)
    assert skipped.replica_hours == stepped.replica_hours > 0
    assert list(skipped.timeline.replicas) == list(stepped.timeline.replicas)
    assert max(skipped.timeline.replicas) >= 12 + 2  # 1200 needs 12 at 100 each, plus sqrt(12) / 2
