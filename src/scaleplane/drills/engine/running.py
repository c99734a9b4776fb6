"""The drill engine: walk a scenario's steps against a backend, stop at the first unmet expectation,
always run the rollback, then measure.

The clock is injected (`Clock.now()`, seconds): the engine never reads the time or sleeps itself, so a
scenario test runs on a fake clock and a fake backend in microseconds. Nothing here does I/O; the
backend does.

A dry run (`execute=False`) performs nothing: it returns the plan (every step, its expectation, its
timeout and the commands of this backend) with `executed=False`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from scaleplane.drills.engine import backends, measures, probes, steps


class Clock(Protocol):
    def now(self) -> float: ...


@dataclass(frozen=True)
class StepResult:
    step: steps.Step
    started: float
    finished: float
    ok: bool
    observed: str
    commands: tuple[str, ...] = ()
    skipped: bool = False

    @property
    def seconds(self) -> float:
        return self.finished - self.started


@dataclass(frozen=True)
class DrillResult:
    scenario: steps.Scenario
    target: str
    executed: bool
    started: float
    finished: float
    results: tuple[StepResult, ...]
    fault_at: float | None
    marks: dict[str, float]
    measurement: measures.Measurement | None
    breaches: tuple[str, ...] = ()
    probe_log: probes.ProbeLog = field(default_factory=probes.ProbeLog)

    @property
    def steps_ok(self) -> bool:
        return all(r.ok for r in self.results if not r.skipped)

    @property
    def verdict(self) -> str | None:
        if not self.executed:
            return None
        return measures.POLICY_MET if self.steps_ok and not self.breaches else measures.POLICY_BREACHED


def plan(scenario: steps.Scenario, backend: backends.Backend, clock: Clock) -> DrillResult:
    now = clock.now()
    results = tuple(
        StepResult(step, now, now, True, "not run (plan)", tuple(backend.commands(step.id)), skipped=True)
        for step in scenario.all_steps
    )
    return DrillResult(scenario, backend.target, False, now, now, results, None, {}, None)


def _perform(
    step: steps.Step, backend: backends.Backend, clock: Clock
) -> tuple[StepResult, dict[str, float]]:
    started = clock.now()
    try:
        outcome = backend.perform(step.id, step.timeout_seconds)
    except Exception as error:  # a backend fault is a failed step with its reason, never a lost rollback
        outcome = backends.Outcome(False, f"{type(error).__name__}: {error}")
    finished = clock.now()
    ok, observed = outcome.ok, outcome.observed
    if ok and finished - started > step.timeout_seconds:
        ok, observed = (
            False,
            f"{observed} (after {finished - started:.1f} s > timeout {step.timeout_seconds:g} s)",
        )
    result = StepResult(step, started, finished, ok, observed, tuple(backend.commands(step.id)))
    return result, dict(outcome.marks)


def run(
    scenario: steps.Scenario,
    backend: backends.Backend,
    clock: Clock,
    *,
    execute: bool,
    on_step: object = None,
) -> DrillResult:
    """Run the drill for real (`execute=True`) or return its plan. `on_step(result)` is called after
    every step, for progress."""
    if not execute:
        return plan(scenario, backend, clock)
    report = on_step if callable(on_step) else None
    started = clock.now()
    results: list[StepResult] = []
    marks: dict[str, float] = {}
    fault_at: float | None = None
    log = probes.ProbeLog()
    try:
        for step in scenario.steps:
            result, step_marks = _perform(step, backend, clock)
            results.append(result)
            marks.update(step_marks)
            if step.phase is steps.Phase.INJECT and result.ok:
                fault_at = step_marks.get("fault", result.finished)
            if report:
                report(result)
            if not result.ok:
                break
    finally:
        # The probe log before rollback: rollback tears down what the data check read.
        try:
            log = backend.probe_log()
        finally:
            for step in scenario.rollback:
                result, step_marks = _perform(step, backend, clock)
                results.append(result)
                marks.update(step_marks)
                if report:
                    report(result)
    ran = {r.step.id for r in results}
    results += [
        StepResult(s, clock.now(), clock.now(), False, "not run: an earlier step failed", skipped=True)
        for s in scenario.steps
        if s.id not in ran
    ]
    measurement = measures.measure(log, fault_at)
    found = measures.breaches(measurement, scenario.objectives, scenario.measures_writes)
    return DrillResult(
        scenario,
        backend.target,
        True,
        started,
        clock.now(),
        tuple(results),
        fault_at,
        marks,
        measurement,
        tuple(found),
        log,
    )
