"""A per-tick series as runs of equal values, so a long quiet span costs one entry, not one per tick.

`Runs(values, lengths)` holds values[i] for lengths[i] consecutive ticks (every length > 0). A ten-year
gap of zero demand at 15 s is one run, not 21 million floats. `oracle.plan_runs` and
`latencies.measure_runs` take runs and give what their per-tick forms give on `runs.expanded()`; their
Python work grows with the number of runs (and, for the latency, with the ticks that hold a queue or
an overload), their numpy work with the ticks at most.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import overload

import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True)
class Runs:
    values: tuple[float, ...]
    lengths: tuple[int, ...]

    def __post_init__(self) -> None:
        if len(self.values) != len(self.lengths) or any(n <= 0 for n in self.lengths):
            raise ValueError("runs need one length > 0 per value")

    @classmethod
    def of(cls, series: Sequence[float] | NDArray[np.float64]) -> Runs:
        """The runs of a per-tick series (NaN never joins a run: NaN != NaN)."""
        values = np.asarray(series, dtype=np.float64)
        if len(values) == 0:
            return cls((), ())
        starts = np.concatenate(([0], np.flatnonzero(values[1:] != values[:-1]) + 1))
        lengths = np.diff(np.append(starts, len(values)))
        return cls(tuple(values[starts].tolist()), tuple(int(n) for n in lengths))

    @property
    def ticks(self) -> int:
        return sum(self.lengths)

    def starts(self) -> list[int]:
        """The first tick of each run."""
        out, at = [], 0
        for n in self.lengths:
            out.append(at)
            at += n
        return out

    def expanded(self) -> list[float]:
        """One value per tick (for short series and for tests)."""
        out: list[float] = np.repeat(np.asarray(self.values, dtype=np.float64), self.lengths).tolist()
        return out


def segments(*series: Runs) -> tuple[list[int], list[tuple[float, ...]]]:
    """The common refinement of runs over the same ticks: (first tick of each segment, the values of
    every series on it), a segment starting wherever any series changes."""
    ticks = series[0].ticks
    if any(s.ticks != ticks for s in series):
        raise ValueError("the series cover different numbers of ticks")
    bounds = sorted({b for s in series for b in s.starts()})
    firsts = [s.starts() for s in series]
    values = []
    for b in bounds:
        values.append(
            tuple(s.values[bisect.bisect_right(f, b) - 1] for s, f in zip(series, firsts, strict=True))
        )
    return bounds, values


class Ticks(Sequence[float]):
    """A read-only per-tick view of runs: `view[k]` is the value at tick k, without one entry per tick.

    What a simulation of runs hands out where a per-tick one hands out tuples (Timeline, OraclePlan), so
    readers index, slice and iterate it the same way; indexing is a bisection over the runs.
    """

    def __init__(self, runs: Runs) -> None:
        self.runs = runs
        self._starts = runs.starts()
        self._ticks = runs.ticks

    def __len__(self) -> int:
        return self._ticks

    @overload
    def __getitem__(self, k: int) -> float: ...
    @overload
    def __getitem__(self, k: slice) -> list[float]: ...
    def __getitem__(self, k: int | slice) -> float | list[float]:
        if isinstance(k, slice):
            return [self[i] for i in range(*k.indices(self._ticks))]
        if k < 0:
            k += self._ticks
        if not 0 <= k < self._ticks:
            raise IndexError(k)
        return self.runs.values[bisect.bisect_right(self._starts, k) - 1]

    def __iter__(self) -> Iterator[float]:
        for value, length in zip(self.runs.values, self.runs.lengths, strict=True):
            yield from itertools.repeat(value, length)


class Builder:
    """Runs built one tick (`append`) or one span (`repeat`) at a time, equal neighbours merged."""

    def __init__(self) -> None:
        self.values: list[float] = []
        self.lengths: list[int] = []

    def append(self, value: float) -> None:
        self.repeat(value, 1)

    def repeat(self, value: float, count: int) -> None:
        if count <= 0:
            return
        if self.values and self.values[-1] == value:
            self.lengths[-1] += count
        else:
            self.values.append(value)
            self.lengths.append(count)

    def runs(self) -> Runs:
        return Runs(tuple(self.values), tuple(self.lengths))


def scaled(runs: Runs, factor: float) -> Runs:
    """Every value times `factor` (the same product per tick as a per-tick list comprehension)."""
    return Runs(tuple(v * factor for v in runs.values), runs.lengths)


class Steps(Sequence[float]):
    """k x step for k in range(n), as `tuple(k * step for k in range(n))` gives it, without the tuple."""

    def __init__(self, n: int, step: float) -> None:
        self.n, self.step = n, step

    def __len__(self) -> int:
        return self.n

    @overload
    def __getitem__(self, k: int) -> float: ...
    @overload
    def __getitem__(self, k: slice) -> list[float]: ...
    def __getitem__(self, k: int | slice) -> float | list[float]:
        if isinstance(k, slice):
            return [i * self.step for i in range(*k.indices(self.n))]
        if k < 0:
            k += self.n
        if not 0 <= k < self.n:
            raise IndexError(k)
        return k * self.step
