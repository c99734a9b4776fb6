"""Headroom from past rises (`sizing.method: rise`): the pure pieces, then stepped through the engine."""

from __future__ import annotations

import json
import math

import pytest

from scaleplane.scaling import reasons, specs
from scaleplane.scaling.deciding import engine, headroom
from scaleplane.scaling.decisions import ScalingState
from tests.support.engine_ticks import observe, policy, run

NO_DOWN_WINDOW = {"scaleDown": {"stabilizationWindowSeconds": 0}}
RISE = {"method": "rise", "quantile": 0.9, "horizonSeconds": 30, "windowSeconds": 3600}


def test_a_rise_is_the_highest_load_over_the_horizon_after_its_origin() -> None:
    history = [(0.0, "m", 100.0), (15.0, "m", 150.0), (30.0, "m", 120.0), (45.0, "other", 900.0)]
    # at 45 s with a 30 s horizon the origin is the reading at 15 s (the newest at least 30 s old)
    assert headroom.rise(history, "m", 45.0, 30.0, load=130.0) == pytest.approx(130 / 150 - 1)
    assert headroom.rise(history, "m", 30.0, 30.0, load=180.0) == pytest.approx(0.8)  # origin 0 s
    assert headroom.rise(history, "m", 20.0, 30.0, load=180.0) is None  # nothing 30 s old yet
    assert headroom.rise([(0.0, "m", 0.0)], "m", 30.0, 30.0, load=5.0) is None  # a rise from nothing


def test_bins_are_two_percent_steps_read_at_their_upper_edge() -> None:
    assert headroom.bin_of(0.0) == headroom.bin_of(-0.3) == headroom.bin_of(math.nan) == 0
    assert headroom.upper_edge(headroom.bin_of(0.01)) == pytest.approx(0.02)
    for rise in (0.01, 0.1, 0.5, 3.0):
        edge = headroom.upper_edge(headroom.bin_of(rise))
        assert rise <= edge <= (1 + rise) * 1.02 - 1 + 1e-12  # never below the rise, at most a bin above
    assert headroom.bin_of(1e9) == headroom.bin_of(math.inf) == headroom.MAX_BIN


def test_the_quantile_walks_down_from_the_largest_rises() -> None:
    total = [90, 0, 0, 0, 0, 0, 0, 0, 0, 0, 10]  # 90 flat horizons, 10 that rose to bin 10
    assert headroom.headroom(total, 0.95) == pytest.approx(headroom.upper_edge(10))
    assert headroom.headroom(total, 0.9) == 0.0  # the 90th rise is still a flat one
    assert headroom.headroom([5, 0, 4], 0.99) == 0.0  # fewer than MIN_RISES counted: no headroom yet


def test_blocks_leave_the_window_whole_and_the_old_state_is_not_changed() -> None:
    entry = None
    for k in range(40):  # one rise a tick at bin 3, for 600 s, in a 400 s window of 100 s blocks
        entry = headroom.counted(entry, 3, 15.0 * k, 400.0)
    assert entry is not None
    assert len(entry["blocks"]) <= headroom.BLOCKS
    assert entry["total"][3] == sum(block[3] for block in entry["blocks"])
    assert 300 / 15 <= entry["total"][3] <= 400 / 15 + 1
    before = json.dumps(entry)
    headroom.counted(entry, 7, 1e6, 400.0)  # a tick far later empties a copy, not this one
    assert json.dumps(entry) == before


def test_a_flat_load_gets_no_rise_headroom() -> None:
    assert run(policy(sizing=RISE), [400.0] * 30, start=4) == [4] * 30


def test_a_load_that_keeps_rising_is_sized_ahead_by_its_own_rises() -> None:
    # +10 % a tick: over a 30 s horizon every rise is 1.1^2 - 1 = 21 %, so once ten are counted the
    # engine asks for 1.21 x (one 2 % bin up) the reading where the reading alone asks for less
    loads = [100.0 * 1.1**k for k in range(20)]
    exact = {**NO_DOWN_WINDOW, "scaleUp": {"tolerance": 0.0}}
    spec = policy(sizing=RISE, behavior=exact, maxReplicas=1000)
    plain = run(policy(behavior=exact, maxReplicas=1000), loads, start=1)
    sized = run(spec, loads, start=1)
    assert sized[:11] == plain[:11]  # no headroom before MIN_RISES rises are counted
    margin = headroom.upper_edge(headroom.bin_of(1.1**2 - 1))
    assert sized[-1] == math.ceil(loads[-1] * (1 + margin) / 100) > plain[-1]
    _, state = engine.decide(spec, observe(0.0, 1, load=100.0), ScalingState(), 0.0)
    assert set(state.extra["rises"]) == {"load"}


def test_the_histogram_survives_a_json_round_trip_and_garbage_is_dropped() -> None:
    spec = policy(sizing=RISE, behavior=NO_DOWN_WINDOW, maxReplicas=1000)
    state = ScalingState()
    for k in range(20):
        decision, state = engine.decide(spec, observe(15.0 * k, 10, load=100.0 * 1.1**k), state, 15.0 * k)
    assert reasons.RULE_QUANTILE in decision.rules
    restored = ScalingState.from_dict(json.loads(json.dumps(state.to_dict())))
    now = 15.0 * 20
    again, _ = engine.decide(spec, observe(now, 10, load=700.0), restored, now)
    same, _ = engine.decide(spec, observe(now, 10, load=700.0), state, now)
    assert again.desired == same.desired
    for garbage in ({"load": "x"}, {"load": {"starts": [1], "blocks": [["a"]], "total": [-1]}}, [1, 2]):
        edited = ScalingState.from_dict({**state.to_dict(), "extra": {"rises": garbage}})
        decision, after = engine.decide(spec, observe(now, 10, load=700.0), edited, now)
        assert decision.desired >= 7 and headroom.valid(after.extra["rises"]["load"]) is not None


def test_bad_sizing_fields_are_named_with_their_value() -> None:
    with pytest.raises(specs.PolicyError, match=r"spec.sizing.method"):
        policy(sizing={"method": "mean"})
    with pytest.raises(specs.PolicyError, match=r"spec.sizing.horizonSeconds: must be 15..3600, was 5"):
        policy(sizing={"method": "rise", "horizonSeconds": 5})
    with pytest.raises(specs.PolicyError, match=r"windowSeconds must be 30..3600 with method stdev.*7200"):
        policy(sizing={"windowSeconds": 7200})
    with pytest.raises(specs.PolicyError, match=r"horizonSeconds is for method rise"):
        policy(sizing={"horizonSeconds": 60})
    assert policy(sizing={"method": "rise"}).sizing.window == 7200  # type: ignore[union-attr]
