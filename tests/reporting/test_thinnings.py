"""Long timelines are thinned for plots: run boundaries when few, else each bucket's extremes."""

from __future__ import annotations

from scaleplane.reporting import thinnings
from scaleplane.scaling.simulating import runlengths


def test_short_timelines_keep_every_tick() -> None:
    assert thinnings.thinned([[1.0, 2.0, 3.0]]) == [0, 1, 2]


def test_runs_are_drawn_from_their_boundaries_so_a_long_gap_is_two_points() -> None:
    busy = runlengths.Runs.of([float(k % 7 + 1) for k in range(100)])
    gap = runlengths.Runs((*busy.values, 0.0, *busy.values), (*busy.lengths, 21_000_000, *busy.lengths))
    demand = runlengths.Ticks(gap)
    keep = thinnings.thinned([demand])
    assert len(keep) < 450
    assert {99, 100, 21_000_099, 21_000_100, len(demand) - 1} <= set(keep)
    picked = thinnings.picked(demand, keep)
    assert max(picked) == 7.0 and picked[keep.index(100)] == 0.0


def test_too_many_changes_keep_each_buckets_extremes() -> None:
    series = [float(k % 10) for k in range(100_000)]
    series[54_321] = 1000.0  # a spike one tick wide must survive the thinning
    keep = thinnings.thinned([series], limit=300)
    assert len(keep) <= 301
    assert 54_321 in keep and keep[-1] == 99_999
