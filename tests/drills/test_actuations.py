"""The operator-leader-loss data check, table-driven: a record with every step once is clean; a step
acted on twice, a step skipped while someone led, an actuation under the old token are each caught; the
steps nobody led through are the gap, not misses."""

from __future__ import annotations

import pytest

from scaleplane.drills.engine import actuations

CYCLE = 50
FAULT = 105.5


def act(step: int, by: str, token: int, late: float = 0.1) -> actuations.Actuation:
    return actuations.Actuation(step + late, actuations.value_of(step, CYCLE), by, token)


def run(record: list[actuations.Actuation]) -> actuations.Check:
    return actuations.check(record, FAULT, "a", step_seconds=1.0, cycle=CYCLE)


CLEAN = [act(s, "a", 2) for s in range(100, 106)] + [act(s, "b", 7) for s in range(109, 113)]


def test_every_step_once_is_clean_and_the_gap_is_named() -> None:
    found = run(CLEAN)
    assert found.ok
    assert (found.doubled, found.missed, found.stale, found.unplaced) == ((), (), 0, 0)
    assert found.gap == (106, 107, 108)
    assert (found.takeover_at, found.new_leader) == (109.1, "b")


@pytest.mark.parametrize(
    ("record", "field", "value"),
    [
        ([*CLEAN, act(110, "b", 7, late=0.6)], "doubled", (110,)),
        ([*CLEAN, act(109, "a", 2, late=0.3)], "doubled", (109,)),
        ([a for a in CLEAN if a.at != 111.1], "missed", (111,)),
        ([a for a in CLEAN if a.at != 102.1], "missed", (102,)),
        ([*CLEAN, act(113, "a", 2)], "stale", 1),
        ([*CLEAN, actuations.Actuation(111.5, 40, "b", 7)], "unplaced", 1),
    ],
    ids=["standby-twice", "old-leader-after-takeover", "missed-after", "missed-before", "stale", "unplaced"],
)
def test_each_fault_is_caught(record: list[actuations.Actuation], field: str, value: object) -> None:
    found = run(record)
    assert getattr(found, field) == value
    assert not found.ok


def test_no_takeover_is_not_ok() -> None:
    assert not run([a for a in CLEAN if a.by == "a"]).ok


def test_a_step_read_just_after_a_boundary_belongs_to_the_next_step() -> None:
    # The tick started at 104.999; Prometheus evaluated the query at 105.001 and saw step 105's value.
    early = actuations.Actuation(104.999, actuations.value_of(105, CYCLE), "a", 2)
    assert actuations.step_of(early, 1.0, CYCLE) == 105


def test_the_startup_raise_to_min_replicas_is_not_counted() -> None:
    assert run([actuations.Actuation(97.0, 1, "a", 2), *CLEAN]).ok


def test_the_startup_raise_just_before_a_cycle_wraps_is_not_read_as_the_next_step() -> None:
    # Seen in a drill: the raise to 1 came at 1199.08 s, a second before step 1200 of the 50-step cycle.
    # With step values of 1..50 it read as step 1200, and step 1200's own actuation as a double.
    record = [actuations.Actuation(1199.078, 1, "a", 2)]
    record += [act(s, "a", 2) for s in range(1199, 1206)] + [act(s, "b", 9) for s in range(1209, 1213)]
    found = actuations.check(record, 1205.5, "a", step_seconds=1.0, cycle=CYCLE)
    assert found.ok, found
    assert actuations.step_of(record[0], 1.0, CYCLE) is None
