"""dryRun and paused, what the state keeps (bounded), and its round trip through JSON."""

from __future__ import annotations

import json

from scaleplane.scaling import decisions, reasons
from scaleplane.scaling.deciding import engine
from scaleplane.scaling.decisions import ScalingState
from tests.support.engine_ticks import metric, observe, policy, run


def test_dry_run_computes_records_and_does_not_actuate() -> None:
    spec = policy(dryRun=True)
    decision, state = engine.decide(spec, observe(0, 2, load=1000.0), ScalingState(), 0)
    assert (decision.desired, decision.actuate, decision.reason) == (6, False, reasons.RATE_LIMITED)
    assert decision.rules[-1] == reasons.RULE_DRY_RUN
    assert "dry run: not carried out" in decision.message
    assert state.scale_events == ()  # nothing was scaled, so no rate-limit budget is spent
    assert (0, 10) in state.recommendations  # the windows keep learning, ready for a switch to live


def test_paused_says_so_and_does_not_actuate() -> None:
    spec = policy(paused=True)
    decided: list[decisions.Decision] = []
    assert run(spec, [1000.0] * 3, start=2, decisions_out=decided) == [2, 2, 2]
    assert all(d.reason == reasons.PAUSED and not d.actuate for d in decided)
    assert decided[0].desired == 6  # what it would have done
    assert decided[0].message.startswith("scale from 2 to 6 replicas: paused")


def test_state_stays_bounded_over_a_long_run() -> None:
    spec = policy(
        metrics=[metric("load", "AverageValue", 100)],
        forecast={"model": "holt", "historySeconds": 600, "startupSeconds": 30},
    )
    state = ScalingState()
    current = 1
    for i in range(2000):
        now = i * 15.0
        load = 1000.0 if (i // 40) % 2 else 100.0
        decision, state = engine.decide(spec, observe(now, current, load=load), state, now)
        current = decision.desired
    assert len(state.recommendations) <= 300 // 15 + 1
    assert len(state.scale_events) <= 15 // 15 + 1
    assert len(state.history) <= 600 // 15


def test_state_round_trips_through_json() -> None:
    spec = policy(
        minReplicas=0,
        metrics=[metric("load", "AverageValue", 100, activation=1)],
        forecast={"model": "holt-winters", "seasonSeconds": 600, "historySeconds": 300},
    )
    state = ScalingState()
    current = 0
    for i in range(80):
        now = 1000.0 + i * 15.0
        load = None if i % 17 == 5 else 300.0 + 200.0 * ((i % 40) / 40)
        decision, state = engine.decide(spec, observe(now, current, load=load), state, now)
        current = decision.desired
    assert state.recommendations and state.history and state.extra["seasonal"]
    text = json.dumps(state.to_dict())
    restored = ScalingState.from_dict(json.loads(text))
    assert restored == state
    # a controller restarted from the JSON decides exactly as one that kept running
    now = 1000.0 + 80 * 15.0
    obs = observe(now, current, load=900.0)
    assert engine.decide(spec, obs, restored, now) == engine.decide(spec, obs, state, now)


def test_an_empty_or_missing_state_dict_is_a_fresh_state() -> None:
    assert ScalingState.from_dict(None) == ScalingState()
    assert ScalingState.from_dict({}) == ScalingState()


def test_a_lazily_explained_decision_reads_as_one_built_with_its_message() -> None:
    """The engine builds the sentence when it is read: every reader gets the text it would have had."""
    import copy
    import dataclasses
    import pickle

    spec = policy(dryRun=True)
    decision, _ = engine.decide(spec, observe(0, 2, load=1000.0), ScalingState(), 0)
    fields = {f.name: getattr(decision, f.name) for f in dataclasses.fields(decision)}
    eager = decisions.Decision(**fields)

    def unread() -> decisions.Decision:
        return engine.decide(spec, observe(0, 2, load=1000.0), ScalingState(), 0)[0]

    assert unread() == eager and hash(unread()) == hash(eager) and repr(unread()) == repr(eager)
    copies = (pickle.loads(pickle.dumps(unread())), copy.deepcopy(unread()), dataclasses.replace(unread()))
    for other in copies:
        assert other == eager and other.message == eager.message
    assert dataclasses.asdict(unread()) == dataclasses.asdict(eager)
    assert eager.message.startswith("scale from 2 to 6 replicas")
    try:
        unread().no_such_field  # noqa: B018 - the lazy message must not make every name an attribute
    except AttributeError:
        pass
    else:
        raise AssertionError("a Decision answered an unknown attribute")
