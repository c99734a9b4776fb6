"""Garbage in any status field stays inside its policy: read back, reset where needed, never raised.

Hypothesis writes arbitrary JSON into every field of `status` (and of `status.engineState`); the
registry must take the policy, the engine must decide on what was restored, and the next status must
be buildable, with the problems named.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from scaleplane.control import policies
from scaleplane.operator.records import registering, restoring, statuses
from scaleplane.scaling import decisions, specs
from scaleplane.scaling.deciding import engine
from scaleplane.targets import protocol

POLICY = {
    "apiVersion": "scaleplane.io/v1alpha1",
    "kind": "ScalingPolicy",
    "metadata": {"name": "p", "namespace": "ns", "generation": 1},
    "spec": {
        "targetRef": {"name": "w"},
        "maxReplicas": 9,
        "metrics": [{"name": "q", "query": "q", "target": {"value": 10}}],
    },
}
SPEC = specs.parse_policy(POLICY["spec"])
STATUS_FIELDS = (
    "target",
    "currentReplicas",
    "desiredReplicas",
    "lastScaleTime",
    "lastDecision",
    "conditions",
    "engineState",
    "observedGeneration",
    "error",
)
STATE_FIELDS = ("recommendations", "scaleEvents", "history", "consecutiveFailures", "lastActiveAt", "extra")

scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=12,
)
garbage_state = st.dictionaries(st.sampled_from(STATE_FIELDS), json_values) | json_values
garbage_status = st.fixed_dictionaries(
    {}, optional={name: garbage_state if name == "engineState" else json_values for name in STATUS_FIELDS}
)


class Target:
    async def read(self) -> protocol.ReplicaCount:
        return protocol.ReplicaCount(2, 2)

    async def scale(self, replicas: int) -> None:
        pass


def _tick_on(entry: registering.Entry, at: float) -> dict[str, Any]:
    """What the operator does with the entry at its next tick: decide, then build the status."""
    observation = decisions.Observation(at, 2, 2, (decisions.MetricSample("q", 45.0),))
    decision, state = engine.decide(entry.managed.spec, observation, entry.managed.state, at)
    outcome = policies.TickOutcome(entry.managed.key, decision, state, None, False, observation)
    return statuses.after_tick(
        SPEC, outcome, entry.status, generation=entry.generation, at=at, restored=entry.restored
    )


@settings(max_examples=150, deadline=None)
@given(garbage_status | json_values)
def test_any_status_is_taken_and_the_policy_goes_on(status: Any) -> None:
    registry = registering.Registry(make_target=lambda ns, ref: Target())
    assert registry.observe({**POLICY, "status": status}) == ("valid", None)
    entry = registry.entries[policies.PolicyKey("ns", "p")]
    ok, reason, message = entry.restored
    assert ok == (not entry.untold)
    if not ok:
        assert reason == "MalformedStatus" and message.startswith("status")
    written = _tick_on(entry, 1.0e9)
    json.dumps(written, allow_nan=False)  # what goes to the API server is plain JSON
    # The status this tick writes reads back clean: one bad write does not haunt the policy.
    assert restoring.restore(json.loads(json.dumps(written))).problems == ()


@settings(max_examples=150, deadline=None)
@given(garbage_status)
def test_a_takeover_reload_with_any_status_never_raises(status: dict[str, Any]) -> None:
    registry = registering.Registry(make_target=lambda ns, ref: Target())
    registry.observe(dict(POLICY))
    other = {**POLICY, "metadata": {"name": "q", "namespace": "ns", "generation": 1}}
    registry.observe(other)
    good = decisions.ScalingState(consecutive_failures=1)
    bodies = [{**POLICY, "status": status}, {**other, "status": {"engineState": good.to_dict()}}]
    assert registry.resync(bodies) == 2
    assert registry.entries[policies.PolicyKey("ns", "q")].managed.state == good
    _tick_on(registry.entries[policies.PolicyKey("ns", "p")], 1.0e9)


def test_a_malformed_engine_state_is_reset_and_named() -> None:
    bad = {"engineState": {"recommendations": [[1.0, "five", 3]]}, "desiredReplicas": 4}
    found = restoring.restore(bad)
    assert found.state == decisions.ScalingState()
    assert found.status == {"desiredReplicas": 4}
    assert len(found.problems) == 1 and found.problems[0].startswith("status.engineState: does not parse")
    nan = restoring.restore({"engineState": {"history": [[1.0, "q", float("nan")]]}})
    assert nan.problems == ("status.engineState: holds a number that is not finite (NaN or Inf)",)


def test_a_good_engine_state_is_resumed() -> None:
    state = decisions.ScalingState(recommendations=((10.0, 3),), consecutive_failures=2)
    registry = registering.Registry(make_target=lambda ns, ref: Target())
    registry.observe({**POLICY, "status": {"engineState": state.to_dict()}})
    entry = registry.entries[policies.PolicyKey("ns", "p")]
    assert entry.managed.state == state and entry.restored[:2] == (True, "Resumed")
    assert entry.untold == ()


def test_a_spec_of_any_shape_refuses_that_policy_only() -> None:
    for spec in (None, [], "x", {"targetRef": 5}, {"metrics": {"a": 1}}, {"maxReplicas": float("nan")}):
        registry = registering.Registry(make_target=lambda ns, ref: Target())
        result, error = registry.observe({**POLICY, "spec": spec})
        assert result == "invalid" and error, spec
