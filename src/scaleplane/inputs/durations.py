"""Durations as PromQL writes them (`30s`, `5m`, `1h30m`, `500ms`, `2d`, `1w`, `1y`), understood or refused.

Prometheus' grammar: one or more `<number><unit>` in decreasing unit order, units ms, s, m, h, d, w, y
(a year is 365 days). A range selector holds a duration or, in a subquery, `range:resolution`. Anything
else inside brackets (`[$__rate_interval]`, a Grafana variable; `[5 m]`) is refused by name rather than
read as some default window.
"""

from __future__ import annotations

import re

UNIT_SECONDS = {"y": 365 * 86400, "w": 7 * 86400, "d": 86400, "h": 3600, "m": 60, "s": 1, "ms": 0.001}
_PART = re.compile(r"(\d+)(ms|y|w|d|h|m|s)")
# Brackets that open a range or subquery: after a selector's `}` or a metric name (not a string).
_RANGE = re.compile(r"(?<=[\w}\)])\s*\[([^\]]*)\]")
_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')  # label values may hold [ ]


class DurationError(ValueError):
    """Not a PromQL duration; the message names the text and the accepted form."""


def seconds(text: str) -> float:
    """`1h30m` -> 5400.0; a PromQL duration or a DurationError naming the text."""
    stripped = text.strip()
    position = 0
    total = 0.0
    order = list(UNIT_SECONDS)
    last = -1
    for match in _PART.finditer(stripped):
        if match.start() != position or order.index(match.group(2)) <= last:
            break
        last = order.index(match.group(2))
        total += int(match.group(1)) * UNIT_SECONDS[match.group(2)]
        position = match.end()
    else:
        if position == len(stripped) and position > 0:
            return total
    raise DurationError(
        f"not a PromQL duration: {text!r} (write e.g. 30s, 5m, 1h30m; units ms, s, m, h, d, w, y)"
    )


def first_range(query: str) -> float | None:
    """The window of the query's first range selector or subquery range, in seconds; None without one.

    `rate(x[2m])` -> 120; `max_over_time(rate(x[1m])[30m:1m])` -> 60 (the first one, the rate's).
    """
    match = _RANGE.search(_STRINGS.sub('""', query))
    if match is None:
        return None
    window = match.group(1).split(":", 1)[0]
    try:
        return seconds(window)
    except DurationError as exc:
        raise DurationError(f"range [{match.group(1)}] in {query!r}: {exc}") from None
