"""Long timelines thinned for a plot or a table: never one point per tick of a ten-year trace.

`thinned(columns, limit)` picks at most about `limit` tick indexes of series that share one time axis.
When every series is a run view (`simulating.runlengths.Ticks`, what a simulation of runs hands out) the
candidates are the ticks where some series changes and the tick before each change, so a step plot of
them is exact; a ten-year gap is two points. When those are still more than `limit` (or the series are
plain per-tick lists), the ticks are cut into equal buckets and each bucket keeps its first tick and the
ticks of every series' minimum and maximum in it, so no spike is lost from the picture.
"""

from __future__ import annotations

from collections.abc import Sequence

from scaleplane.scaling.simulating import runlengths

PLOT_POINTS = 4000  # a 11-inch plot at 100 dpi has ~1,000 pixel columns: 4,000 points is plenty


def thinned(columns: Sequence[Sequence[float]], limit: int = PLOT_POINTS) -> list[int]:
    """Tick indexes (ascending) to draw `columns` from; every index when there are `limit` or fewer."""
    ticks = len(columns[0])
    if ticks <= limit:
        return list(range(ticks))
    candidates: Sequence[int] = range(ticks)
    if all(isinstance(c, runlengths.Ticks) for c in columns):
        bounds = {b for c in columns for b in c.runs.starts()}  # type: ignore[attr-defined]
        candidates = sorted(bounds | {b - 1 for b in bounds if b > 0} | {ticks - 1})
        if len(candidates) <= limit:
            return list(candidates)
    buckets = max(1, limit // (2 * len(columns) + 1))
    width = -(-ticks // buckets)  # ceiling: the last bucket may be short
    kept: set[int] = {ticks - 1}
    group: list[int] = []
    for index in candidates:
        if group and index // width != group[0] // width:
            kept |= _extremes(group, columns)
            group = []
        group.append(index)
    if group:
        kept |= _extremes(group, columns)
    return sorted(kept)


def _extremes(group: list[int], columns: Sequence[Sequence[float]]) -> set[int]:
    kept = {group[0]}
    for column in columns:
        values = [column[i] for i in group]
        kept.add(group[values.index(min(values))])
        kept.add(group[values.index(max(values))])
    return kept


def picked(column: Sequence[float], indexes: Sequence[int]) -> list[float]:
    """`column`'s values at `indexes`."""
    return [column[i] for i in indexes]
