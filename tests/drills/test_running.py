"""The drill engine on a fake clock and a fake backend: order, stop conditions, rollback, timeouts,
plans that touch nothing, and the verdict."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from scaleplane.drills.engine import backends, probes, running, scenarios, steps


@dataclass
class FakeClock:
    t: float = 1000.0

    def now(self) -> float:
        return self.t


@dataclass
class FakeBackend:
    """Each step takes `cost` seconds of fake time; `fail` steps fail, `boom` steps raise."""

    clock: FakeClock
    fail: set[str] = field(default_factory=set)
    boom: set[str] = field(default_factory=set)
    cost: dict[str, float] = field(default_factory=dict)
    performed: list[str] = field(default_factory=list)
    log: probes.ProbeLog = field(default_factory=probes.ProbeLog)
    target: str = "fake"

    def supports(self, scenario: str) -> bool:
        return True

    def commands(self, step_id: str) -> list[str]:
        return [f"do {step_id}"]

    def perform(self, step_id: str, timeout: float) -> backends.Outcome:
        self.performed.append(step_id)
        self.clock.t += self.cost.get(step_id, 1.0)
        if step_id in self.boom:
            raise RuntimeError("server gone")
        marks = {"fault": self.clock.t} if step_id == "kill-primary" else {}
        return backends.Outcome(step_id not in self.fail, f"{step_id} observed", marks)

    def probe_log(self) -> probes.ProbeLog:
        return self.log


SCENARIO = scenarios.DB_PRIMARY_LOSS
IDS = [s.id for s in SCENARIO.steps]


def healthy_log(fault_after: float) -> probes.ProbeLog:
    writes = [probes.Attempt("write", 990 + i, 990.1 + i, True, i) for i in range(1, 4)]
    writes.append(probes.Attempt("write", fault_after + 2, fault_after + 2.5, True, 4))
    return probes.ProbeLog(tuple(writes), frozenset({1, 2, 3, 4}), True)


def test_plan_lists_every_step_with_commands_and_performs_nothing() -> None:
    clock = FakeClock()
    backend = FakeBackend(clock)
    result = running.run(SCENARIO, backend, clock, execute=False)
    assert backend.performed == []
    assert [r.step.id for r in result.results] == [s.id for s in SCENARIO.all_steps]
    assert all(r.skipped and r.commands == (f"do {r.step.id}",) for r in result.results)
    assert (result.executed, result.verdict, result.measurement) == (False, None, None)


def test_a_drill_runs_its_steps_in_order_then_rolls_back_and_measures() -> None:
    clock = FakeClock()
    backend = FakeBackend(clock)
    backend.log = healthy_log(fault_after=1003.0)  # kill-primary ends at t=1003
    seen: list[str] = []
    result = running.run(SCENARIO, backend, clock, execute=True, on_step=lambda r: seen.append(r.step.id))
    assert backend.performed == [*IDS, "stop-cluster"] == seen
    assert result.fault_at == 1003.0
    assert result.measurement is not None and result.measurement.rto_seconds == 2.5
    assert result.measurement.rpo_commits_lost == 0
    assert (result.verdict, result.breaches) == ("PolicyMet", ())


@pytest.mark.parametrize("how", ["fail", "boom"])
def test_an_unmet_expectation_stops_the_drill_and_rollback_still_runs(how: str) -> None:
    clock = FakeClock()
    backend = FakeBackend(clock, **{how: {"await-promotion"}})
    result = running.run(SCENARIO, backend, clock, execute=True)
    stop = IDS.index("await-promotion")
    assert backend.performed == [*IDS[: stop + 1], "stop-cluster"]
    failed = [r for r in result.results if not r.ok and not r.skipped]
    assert [r.step.id for r in failed] == ["await-promotion"]
    if how == "boom":
        assert failed[0].observed == "RuntimeError: server gone"
    skipped = [r.step.id for r in result.results if r.skipped]
    assert skipped == IDS[stop + 1 :]
    assert result.verdict == "PolicyBreached"


def test_a_step_over_its_timeout_fails_even_if_the_backend_said_ok() -> None:
    clock = FakeClock()
    slow = SCENARIO.step("await-promotion").timeout_seconds + 1
    backend = FakeBackend(clock, cost={"await-promotion": slow})
    result = running.run(SCENARIO, backend, clock, execute=True)
    step = next(r for r in result.results if r.step.id == "await-promotion")
    assert not step.ok and "> timeout 60 s" in step.observed
    assert result.verdict == "PolicyBreached"


def test_rollback_runs_when_the_drill_is_interrupted() -> None:
    clock = FakeClock()

    class Interrupted(FakeBackend):
        def perform(self, step_id: str, timeout: float) -> backends.Outcome:
            if step_id == "detect-primary-down":
                self.performed.append(step_id)
                raise KeyboardInterrupt
            return super().perform(step_id, timeout)

    backend = Interrupted(clock)
    with pytest.raises(KeyboardInterrupt):
        running.run(SCENARIO, backend, clock, execute=True)
    assert backend.performed[-1] == "stop-cluster"


def test_a_lost_commit_breaches_the_policy() -> None:
    clock = FakeClock()
    backend = FakeBackend(clock)
    good = healthy_log(fault_after=1003.0)
    backend.log = probes.ProbeLog(good.attempts, frozenset({1, 2, 4}), True)
    result = running.run(SCENARIO, backend, clock, execute=True)
    assert result.measurement is not None and result.measurement.lost == (3,)
    assert result.verdict == "PolicyBreached"
    assert "1 acknowledged commits lost > objective 0" in result.breaches


def test_scenarios_are_checked_when_defined() -> None:
    step = steps.Step("a", steps.Phase.ACT, "does", "expect", 1)
    with pytest.raises(ValueError, match="exactly one step must inject the fault"):
        steps.Scenario("x", "", (step,), (), steps.Objectives(1, 0))
    with pytest.raises(ValueError, match="step ids repeat: a"):
        steps.Scenario("x", "", (step, step), (), steps.Objectives(1, 0))
    with pytest.raises(ValueError, match="timeout_seconds must be > 0, was 0"):
        steps.Step("a", steps.Phase.ACT, "does", "expect", 0)
