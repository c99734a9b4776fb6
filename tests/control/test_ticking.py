"""The Controller's tick on fake sources, targets and a fake engine: the loop's own logic only."""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Mapping

import pytest

from scaleplane.control import policies, retrying, ticking
from scaleplane.metrics import sources
from scaleplane.scaling import decisions, specs
from scaleplane.targets import protocol


class FakeSource:
    def __init__(self, values: Mapping[str, float | str]) -> None:
        self.values = values
        self.calls: list[list[str]] = []

    async def fetch(self, queries: Collection[str]) -> Mapping[str, sources.QueryResult]:
        self.calls.append(sorted(queries))
        answers = {}
        for q in queries:
            value = self.values.get(q, "no data")
            answers[q] = (
                sources.QueryResult(float(value))
                if not isinstance(value, str)
                else sources.QueryResult(None, value)
            )
        return answers


class BrokenSource:
    async def fetch(self, queries: Collection[str]) -> Mapping[str, sources.QueryResult]:
        raise RuntimeError("boom")


class FakeTarget:
    """Counts calls; `scale_errors`/`read_errors` are raised in order before calls succeed."""

    def __init__(self, current: int = 1, *, read_errors=(), scale_errors=(), delay: float = 0.0) -> None:
        self.current = current
        self.read_errors = list(read_errors)
        self.scale_errors = list(scale_errors)
        self.delay = delay
        self.reads = 0
        self.scales: list[int] = []
        self.in_flight = 0
        self.max_in_flight = 0

    async def _enter(self) -> None:
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await asyncio.sleep(self.delay)
        finally:
            self.in_flight -= 1

    async def read(self) -> protocol.ReplicaCount:
        self.reads += 1
        await self._enter()
        if self.read_errors:
            raise self.read_errors.pop(0)
        return protocol.ReplicaCount(self.current, self.current)

    async def scale(self, replicas: int) -> None:
        await self._enter()
        if self.scale_errors:
            raise self.scale_errors.pop(0)
        self.scales.append(replicas)
        self.current = replicas


def fake_decide(spec, observation, state, now):
    """Desired = the first metric's value (or current when it failed); the state counts calls."""
    sample = observation.samples[0]
    desired = int(sample.value) if sample.ok else observation.current_replicas
    decision = decisions.Decision(
        at=now,
        current=observation.current_replicas,
        desired=desired,
        raw=desired,
        reason="fake",
        message="fake",
        actuate=not (spec.dry_run or spec.paused),
    )
    return decision, decisions.ScalingState(consecutive_failures=state.consecutive_failures + 1)


def spec(*queries: str, dry_run: bool = False) -> specs.ScalingPolicySpec:
    return specs.parse_policy(
        {
            "targetRef": {"name": "web"},
            "maxReplicas": 50,
            "dryRun": dry_run,
            "metrics": [
                {"name": f"m{i}", "query": q, "target": {"type": "Value", "value": 1}}
                for i, q in enumerate(queries)
            ],
        }
    )


def managed(name: str, target: FakeTarget, *queries: str, dry_run: bool = False) -> policies.ManagedPolicy:
    return policies.ManagedPolicy(
        policies.PolicyKey("team-a", name), spec(*queries, dry_run=dry_run), decisions.ScalingState(), target
    )


class Sleeps:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


def controller(source, **kwargs) -> ticking.Controller:
    kwargs.setdefault("sleep", Sleeps())
    return ticking.Controller(source, decide=fake_decide, **kwargs)


async def test_all_queries_of_all_policies_go_in_one_deduplicated_fetch():
    source = FakeSource({"q1": 3, "q2": 2})
    ctl = controller(source)
    ps = [
        managed("a", FakeTarget(), "q1", "q2"),
        managed("b", FakeTarget(), "q1"),
        managed("c", FakeTarget(), "q2"),
    ]
    outcomes = await ctl.tick(ps, now=100.0)
    assert source.calls == [["q1", "q2"]]
    assert [o.key.name for o in outcomes] == ["a", "b", "c"]
    assert [o.decision.desired for o in outcomes] == [3, 3, 2]


async def test_scales_only_when_the_count_changes_and_actuation_is_allowed():
    same, up, dry = FakeTarget(current=3), FakeTarget(current=1), FakeTarget(current=1)
    ctl = controller(FakeSource({"q": 3}))
    outcomes = await ctl.tick(
        [managed("same", same, "q"), managed("up", up, "q"), managed("dry", dry, "q", dry_run=True)], 1.0
    )
    assert [(o.scaled, o.error) for o in outcomes] == [(False, None), (True, None), (False, None)]
    assert (same.scales, up.scales, dry.scales) == ([], [3], [])
    assert outcomes[2].decision.desired == 3 and not outcomes[2].decision.actuate
    assert all(o.state.consecutive_failures == 1 for o in outcomes)  # the engine's new state is kept


async def test_the_fence_is_asked_right_before_each_write_and_a_closed_fence_writes_nothing():
    first, second = FakeTarget(current=1), FakeTarget(current=1)
    asked: list[str] = []

    def may_actuate() -> bool:
        asked.append("asked")
        return len(asked) == 1  # the Lease is lost after the first write

    ctl = controller(FakeSource({"q": 3}), target_concurrency=1)
    outcomes = await ctl.tick(
        [managed("a", first, "q"), managed("b", second, "q")], 1.0, may_actuate=may_actuate
    )
    assert first.scales == [3] and second.scales == []
    assert outcomes[0].scaled and not outcomes[1].scaled
    assert "no longer holds the Lease" in outcomes[1].error
    assert outcomes[1].state == managed("b", second, "q").state  # a write that did not happen is not counted
    assert asked == ["asked", "asked"]  # once per write, not once per tick


async def test_the_observation_carries_replicas_and_per_metric_errors():
    ctl = controller(FakeSource({"good": 4, "bad": "HTTP 500 from Prometheus: boom"}))
    [outcome] = await ctl.tick([managed("a", FakeTarget(current=2), "good", "bad")], 7.0)
    obs = outcome.observation
    assert (obs.at, obs.current_replicas, obs.ready_replicas) == (7.0, 2, 2)
    assert [(s.name, s.value, s.error) for s in obs.samples] == [
        ("m0", 4.0, None),
        ("m1", None, "HTTP 500 from Prometheus: boom"),
    ]


async def test_retryable_scale_errors_are_retried_with_exponential_backoff():
    sleeps = Sleeps()
    target = FakeTarget(scale_errors=[protocol.TargetError("409 conflict"), protocol.TargetError("500")])
    ctl = controller(FakeSource({"q": 5}), sleep=sleeps, backoff=retrying.Backoff(retries=3, initial=0.5))
    [outcome] = await ctl.tick([managed("a", target, "q")], 1.0)
    assert outcome.scaled and outcome.error is None
    assert target.scales == [5]
    assert sleeps.delays == [0.5, 1.0]


async def test_exhausted_retries_give_an_error_outcome_the_old_state_and_leave_others_alone():
    failing = FakeTarget(scale_errors=[protocol.TargetError("HTTP 500")] * 10)
    fine = FakeTarget()
    old_state = decisions.ScalingState(consecutive_failures=41)
    bad = managed("bad", failing, "q")
    bad.state = old_state
    sleeps = Sleeps()
    ctl = controller(FakeSource({"q": 5}), sleep=sleeps, backoff=retrying.Backoff(retries=2, initial=0.1))
    bad_outcome, good_outcome = await ctl.tick([bad, managed("good", fine, "q")], 1.0)
    assert not bad_outcome.scaled
    assert bad_outcome.error == "cannot scale Deployment team-a/web from 1 to 5: HTTP 500 (after 3 attempts)"
    assert bad_outcome.state is old_state
    assert bad_outcome.decision.desired == 5
    assert sleeps.delays == [0.1, 0.2]
    assert good_outcome.scaled and fine.scales == [5]


async def test_non_retryable_errors_are_not_retried():
    target = FakeTarget(scale_errors=[protocol.TargetError("HTTP 422 invalid", retryable=False)])
    sleeps = Sleeps()
    ctl = controller(FakeSource({"q": 5}), sleep=sleeps)
    [outcome] = await ctl.tick([managed("a", target, "q")], 1.0)
    assert outcome.error.endswith("HTTP 422 invalid (at the first attempt)")
    assert sleeps.delays == [] and target.scales == []


async def test_an_unreadable_target_skips_the_decision():
    target = FakeTarget(read_errors=[protocol.TargetError("404 not found", retryable=False)])
    [outcome] = await controller(FakeSource({"q": 5})).tick([managed("a", target, "q")], 1.0)
    assert outcome.decision is None and outcome.observation is None and not outcome.scaled
    assert outcome.error == "cannot read Deployment team-a/web: 404 not found (at the first attempt)"


async def test_a_slow_target_times_out_and_counts_as_retryable():
    target = FakeTarget(delay=5.0)
    ctl = controller(
        FakeSource({"q": 5}), target_timeout=0.05, backoff=retrying.Backoff(retries=1, initial=0)
    )
    [outcome] = await ctl.tick([managed("a", target, "q")], 1.0)
    assert outcome.error == "cannot read Deployment team-a/web: no answer within 0.05 s (after 2 attempts)"
    assert target.reads == 2


async def test_a_target_bug_is_reported_not_retried():
    target = FakeTarget(read_errors=[KeyError("spec")])
    [outcome] = await controller(FakeSource({"q": 5})).tick([managed("a", target, "q")], 1.0)
    assert outcome.error == "cannot read Deployment team-a/web: unexpected KeyError: 'spec'"
    assert target.reads == 1


async def test_an_engine_failure_on_one_policy_leaves_the_others_alone():
    def picky_decide(spec, observation, state, now):
        if spec.metrics[0].query == "poison":
            raise ZeroDivisionError("division by zero")
        return fake_decide(spec, observation, state, now)

    ctl = ticking.Controller(FakeSource({"q": 2, "poison": 1}), decide=picky_decide)
    bad, good = await ctl.tick(
        [managed("bad", FakeTarget(), "poison"), managed("good", FakeTarget(), "q")], 1.0
    )
    assert bad.error == "engine failed: ZeroDivisionError: division by zero" and bad.decision is None
    assert good.scaled


async def test_a_source_that_raises_fails_every_metric_but_the_tick_goes_on():
    [outcome] = await controller(BrokenSource()).tick([managed("a", FakeTarget(current=4), "q")], 1.0)
    assert outcome.error is None
    assert outcome.observation.samples[0].error == "metrics source failed: RuntimeError: boom"
    assert outcome.decision.desired == 4  # the fake engine holds on failed data


async def test_the_shared_bound_holds_across_policies():
    in_flight = 0
    peak = 0

    class Counting(FakeTarget):
        async def _enter(self) -> None:
            nonlocal in_flight, peak
            in_flight += 1
            peak = max(peak, in_flight)
            await asyncio.sleep(0.01)
            in_flight -= 1

    ctl = controller(FakeSource({"q": 2}), target_concurrency=5)
    await ctl.tick([managed(f"p{i}", Counting(), "q") for i in range(40)], 1.0)
    assert peak == 5


def test_backoff_delays_grow_and_are_capped():
    assert list(retrying.Backoff(retries=5, initial=0.5, factor=3, cap=4).delays()) == [0.5, 1.5, 4, 4, 4]
    with pytest.raises(ValueError, match=r"backoff\.retries must be >= 0, was -1"):
        retrying.Backoff(retries=-1)


def test_bad_controller_settings_are_refused_with_the_value():
    with pytest.raises(ValueError, match="target_concurrency must be >= 1, was 0"):
        ticking.Controller(FakeSource({}), decide=fake_decide, target_concurrency=0)


async def test_the_one_retry_mechanism_retries_what_it_is_told_and_raises_the_last_error():
    attempts: list[int] = []
    slept: list[float] = []

    async def sleep(delay: float) -> None:
        slept.append(delay)

    class Flaky(Exception):
        retryable = True

    async def call() -> str:
        attempts.append(1)
        if len(attempts) < 3:
            raise Flaky("busy")
        return "done"

    backoff = retrying.Backoff(retries=3, initial=0.1, factor=2)
    assert (
        await retrying.run(call, backoff=backoff, retryable=retrying.retryable_attribute, sleep=sleep)
        == "done"
    )
    assert slept == [0.1, 0.2]

    async def refused() -> str:
        raise ValueError("422")

    with pytest.raises(ValueError, match="422"):
        await retrying.run(refused, backoff=backoff, retryable=retrying.retryable_attribute, sleep=sleep)
    assert slept == [0.1, 0.2]  # not retried

    async def always() -> str:
        raise Flaky("still busy")

    with pytest.raises(Flaky, match="still busy"):
        await retrying.run(always, backoff=backoff, retryable=retrying.retryable_attribute, sleep=sleep)
    assert slept == [0.1, 0.2, 0.1, 0.2, 0.4]
