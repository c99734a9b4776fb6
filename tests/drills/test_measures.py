"""RTO and RPO from probe logs (pure, table-driven): what counts as recovery and what counts as loss."""

from __future__ import annotations

import pytest

from scaleplane.drills.engine import measures, probes, steps

W, R = "write", "read"


def log(*attempts: probes.Attempt, surviving: set[int] | None = None) -> probes.ProbeLog:
    return probes.ProbeLog(tuple(attempts), frozenset(surviving or ()), surviving is not None)


def write(seq: int, started: float, finished: float, ok: bool = True) -> probes.Attempt:
    return probes.Attempt(W, started, finished, ok, seq)


def read(started: float, finished: float, ok: bool = True) -> probes.Attempt:
    return probes.Attempt(R, started, finished, ok, 0)


@pytest.mark.parametrize(
    ("attempts", "fault_at", "rto"),
    [
        # the first write started after the fault and acknowledged defines RTO
        ((write(1, 0, 1), write(2, 11, 12, ok=False), write(3, 14, 15)), 10.0, 5.0),
        # a write in flight at the fault that comes back acknowledged is not recovery
        ((write(1, 9.9, 10.5), write(2, 12, 13)), 10.0, 3.0),
        # nothing acknowledged after the fault: RTO not reached
        ((write(1, 0, 1), write(2, 11, 12, ok=False)), 10.0, None),
        # no fault recorded (the drill stopped before injecting it)
        ((write(1, 0, 1),), None, None),
    ],
)
def test_rto_is_fault_to_first_acknowledged_write_started_after_it(
    attempts: tuple[probes.Attempt, ...], fault_at: float | None, rto: float | None
) -> None:
    assert measures.measure(log(*attempts), fault_at).rto_seconds == rto


def test_read_rto_is_measured_apart_from_writes() -> None:
    m = measures.measure(log(read(9, 9.5), read(10.5, 10.6, ok=False), read(11, 11.25)), 10.0)
    assert (m.rto_seconds, m.rto_read_seconds, m.reads_ok, m.reads_failed) == (None, 1.25, 2, 1)


@pytest.mark.parametrize(
    ("surviving", "lost", "rpo_seconds"),
    [
        ({1, 2, 3, 4}, (), 0.0),
        # 3 and 4 were acknowledged and are gone: 2 commits, from the last kept (2 at t=2) to the last lost
        ({1, 2}, (3, 4), 2.0),
        # only the very first is lost: no kept commit before it, the span is its own (0 s)
        ({2, 3, 4}, (1,), 0.0),
        # an unacknowledged write may or may not be there: it never counts
        ({1, 2, 3, 4, 5}, (), 0.0),
    ],
)
def test_rpo_counts_acknowledged_commits_missing_after_recovery(
    surviving: set[int], lost: tuple[int, ...], rpo_seconds: float
) -> None:
    attempts = [write(n, n - 0.5, float(n)) for n in (1, 2, 3, 4)] + [write(5, 4.5, 5, ok=False)]
    m = measures.measure(log(*attempts, surviving=surviving), 10.0)
    assert (m.lost, m.rpo_commits_lost, m.rpo_seconds) == (lost, len(lost), rpo_seconds)


def test_rpo_is_unknown_until_the_data_check_ran() -> None:
    m = measures.measure(log(write(1, 0, 1)), 0.5)
    assert (m.rpo_commits_lost, m.rpo_seconds) == (None, None)
    assert "the data check did not run: RPO unknown" in measures.breaches(m, steps.Objectives(30, 0))


@pytest.mark.parametrize(
    ("rto", "lost", "rpo", "expected"),
    [
        (9.7, 0, 0.0, []),
        (31.0, 0, 0.0, ["RTO 31.00 s > objective 30 s"]),
        (None, 0, 0.0, ["no acknowledged write after the fault: RTO not reached"]),
        (5.0, 2, 0.4, ["2 acknowledged commits lost > objective 0", "RPO 0.40 s > objective 0 s"]),
    ],
)
def test_breaches_name_the_figure_and_the_objective(
    rto: float | None, lost: int, rpo: float, expected: list[str]
) -> None:
    m = measures.Measurement(rto, None, lost, rpo, 10, 0, 10, 0)
    assert measures.breaches(m, steps.Objectives(rto_seconds=30, rpo_seconds=0, rpo_commits=0)) == expected
