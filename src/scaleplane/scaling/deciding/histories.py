"""One metric's (times, values) out of the remembered history, and a one-entry cache of its columns.

`state.history` is a tuple of (time, metric, load) entries in time order, every metric's together.
Four readers take one metric's columns out of it each tick: the forecast (`forecasting`, through
`series`), the error tracking (`forecasterrors`) and the seasonal profiles (`seasons`), both through
`of_metric`, and quantile sizing (`sizing`, through `columns`); and `remembering` bisects the times to
trim it. With one metric (the usual case) the columns are the entries unzipped, so they are unzipped
once per history and held (`columns`), and `remembering` builds the next tick's columns by slicing
these (`extend_columns`), not by a new pass.
"""

from __future__ import annotations

from collections.abc import Sequence

from scaleplane.scaling import decisions

# (times, the metric's name when every entry is that one metric's, else None, values)
Columns = tuple[tuple[float, ...], str | None, tuple[float, ...]]
_LAST_COLUMNS: list[tuple[object, Columns]] = [((), ((), None, ()))]  # one entry, swapped whole


def series(
    state: decisions.ScalingState, metric: str, now: float, value: float
) -> tuple[list[float], list[float]]:
    """(times, values) of one metric's remembered history, with this tick's value last."""
    if state.history and state.history[-1][0] < now:
        at, only, readings = columns(state.history)
        if only == metric:  # one metric (the usual case): no filter, at C speed
            return [*at, now], [*readings, value]
    times = [at for at, name, _ in state.history if name == metric and at < now]
    values = [v for at, name, v in state.history if name == metric and at < now]
    times.append(now)
    values.append(value)
    return times, values


def of_metric(
    history: Sequence[tuple[float, str, float]], metric: str
) -> tuple[Sequence[float], Sequence[float]]:
    """(times, values) of one metric's entries, in the history's order (read-only: the held columns)."""
    if not history:
        return [], []
    at, only, readings = columns(history)
    if only == metric:  # one metric (the usual case): the columns themselves, no copy
        return at, readings
    return [t for t, n, _ in history if n == metric], [v for _, n, v in history if n == metric]


def columns(history: Sequence[tuple[float, str, float]]) -> Columns:
    """(times, the metric's name when every entry is that one metric's, else None, values).

    Remembered for the last history seen: the history a tick leaves (forecasterrors reads it) is the one
    the next tick forecasts from (series). Histories are tuples, never changed in place, and the entry
    holds the tuple itself, so an identity check is exact; one assignment swaps the entry (threads).
    """
    held, columns = _LAST_COLUMNS[0]
    if held is history:
        return columns
    at, names, readings = zip(*history, strict=True)
    only = names[0] if names.count(names[0]) == len(names) else None
    columns = (at, only, readings)
    if type(history) is tuple:  # a list could change after this call
        _LAST_COLUMNS[0] = (history, columns)
    return columns


def cached_columns(history: Sequence[tuple[float, str, float]]) -> Columns | None:
    """The columns `columns` holds for this very history, else None (nothing is computed)."""
    held, columns = _LAST_COLUMNS[0]
    return columns if held is history else None


def extend_columns(
    history: tuple[tuple[float, str, float], ...],
    old: Columns,
    first: int,
    last: int,
    added: Sequence[tuple[float, str, float]],
) -> None:
    """Hold the columns of `history` = the old history's [first:last] + `added`, by slicing the old
    columns (no pass over the entries); when they hold one metric and `added` is only that one."""
    at, only, readings = old
    if only is None or first >= last or any(name != only for _, name, _ in added):
        return
    columns = (
        at[first:last] + tuple(t for t, _, _ in added),
        only,
        readings[first:last] + tuple(v for _, _, v in added),
    )
    _LAST_COLUMNS[0] = (history, columns)
