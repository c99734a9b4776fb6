"""Scheduled floors: cron windows in their time zone raise the minimum while they are open."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from scaleplane.scaling import reasons, specs
from scaleplane.scaling.deciding import engine, scheduling
from scaleplane.scaling.decisions import ScalingState
from tests.support.engine_ticks import observe, policy

MORNING = {
    "name": "morning",
    "cron": "0 9 * * 1-5",
    "durationSeconds": 3600,
    "minReplicas": 10,
    "timezone": "Europe/Paris",
}


def at(*args: int) -> float:
    return datetime(*args, tzinfo=UTC).timestamp()


@pytest.mark.parametrize(
    ("now", "floor"),
    [
        (at(2026, 11, 23, 8, 30), 10),  # Monday 09:30 in Paris (UTC+1 in November)
        (at(2026, 11, 23, 8, 0), 10),  # the firing minute itself is inside
        (at(2026, 11, 23, 7, 59, 59), 0),  # one second before
        (at(2026, 11, 23, 9, 0), 0),  # 3600 s after the firing: closed
        (at(2026, 11, 28, 8, 30), 0),  # Saturday
        (at(2026, 7, 6, 7, 30), 10),  # Monday 09:30 in Paris in summer time (UTC+2)
        (at(2026, 7, 6, 8, 30), 0),  # 10:30 in Paris
    ],
)
def test_floor_follows_the_cron_in_its_time_zone(now: float, floor: int) -> None:
    assert scheduling.floor(policy(schedules=[MORNING]), now) == (floor, "morning" if floor else None)


def test_the_highest_open_window_wins_and_max_replicas_caps_it() -> None:
    always = {"name": "always", "cron": "* * * * *", "durationSeconds": 120, "minReplicas": 500}
    spec = policy(maxReplicas=40, schedules=[MORNING, always])
    assert scheduling.floor(spec, at(2026, 11, 23, 8, 30)) == (40, "always")


def test_an_open_window_raises_the_count_at_once() -> None:
    spec = policy(schedules=[MORNING])
    now = at(2026, 11, 23, 8, 0, 15)
    decision, state = engine.decide(spec, observe(now, 2, load=50.0), ScalingState(), now)
    assert (decision.desired, decision.reason, decision.rules) == (
        10,
        reasons.SCHEDULE,
        (reasons.RULE_SCHEDULE,),
    )
    # inside the window, the metrics asking for 1 are held at the floor
    decision, state = engine.decide(spec, observe(now + 15, 10, load=50.0), state, now + 15)
    assert (decision.desired, decision.reason) == (10, reasons.SCHEDULE)
    # the window closes: the HPA's recorded recommendations were the metrics' (1), so it goes down at once
    later = at(2026, 11, 23, 9, 0, 15)
    decision, _ = engine.decide(spec, observe(later, 10, load=50.0), state, later)
    assert (decision.desired, decision.reason) == (1, reasons.SCALE_DOWN)


def test_a_window_wakes_a_target_at_zero() -> None:
    spec = policy(minReplicas=0, schedules=[MORNING])
    now = at(2026, 11, 23, 8, 30)
    decision, _ = engine.decide(spec, observe(now, 0, load=0.0), ScalingState(), now)
    assert (decision.desired, decision.reason) == (10, reasons.SCHEDULE)


@pytest.mark.parametrize(
    ("window", "problem"),
    [
        (
            {**MORNING, "cron": "0 25 * * *"},
            "spec.schedules[0].cron: not a valid cron expression (Bad hour), was '0 25 * * *'",
        ),
        (
            {**MORNING, "timezone": "Mars/Olympus"},
            "spec.schedules[0].timezone: not a known IANA time zone (e.g. UTC, Europe/Paris),"
            " was 'Mars/Olympus'",
        ),
    ],
)
def test_bad_windows_name_the_field_and_the_value(window: dict[str, object], problem: str) -> None:
    with pytest.raises(specs.PolicyError) as caught:
        policy(schedules=[window])
    assert caught.value.problems == [problem]
