"""Turn one Prometheus `/api/v1/query` result into one value or a per-query error.

A policy's query must come down to ONE finite number. What Prometheus may answer instead, and what
we make of it:

    scalar                         -> its value (a string result is "not a number")
    vector with one series         -> its value
    vector with no series          -> an error by default ("no data"): missing data must never look
                                      like zero load, or a Prometheus that lost its targets would
                                      scale everything down. With `empty_as_zero` (KEDA's
                                      ignoreNullValues) it is 0; a query can also say so itself
                                      with `... or vector(0)`.
    vector with several series     -> an error naming the count and a few label sets: the user must
                                      aggregate (`sum(...)`, `max by () (...)`), we never guess
    matrix (a range vector)        -> an error: wrap it in a function such as rate() or avg_over_time()
    NaN, +Inf, -Inf, not a number  -> an error naming the raw value
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from scaleplane.metrics import sources

NO_DATA = "no data: the query matched no series (add `or vector(0)` if none means 0)"
SHOWN_SERIES = 3  # label sets quoted in a several-series error; enough to see which label differs


def interpret(result: Any, *, empty_as_zero: bool = False) -> sources.QueryResult:
    """Interpret `data.result` of a successful query response.

    prometheus-api-client's custom_query returns only `data.result`, so the result type is read from
    its shape: a scalar is `[time, "value"]`, a vector a list of `{metric, value}`, a matrix a list of
    `{metric, values}`.
    """
    if not isinstance(result, list):
        return sources.QueryResult(None, f"malformed result: {_short(result)}")
    if len(result) == 2 and not isinstance(result[0], dict):
        return _number(result)
    if any(isinstance(series, dict) and "values" in series for series in result):
        return sources.QueryResult(None, "the query returns a range vector; wrap it, e.g. rate(x[1m])")
    if not result:
        if empty_as_zero:
            return sources.QueryResult(0.0)
        return sources.QueryResult(
            None, "no data: the query matched no series (add `or vector(0)` if none means 0)"
        )
    if len(result) > 1:
        shown = ", ".join(_labels(series) for series in result[:SHOWN_SERIES])
        more = ", ..." if len(result) > SHOWN_SERIES else ""
        return sources.QueryResult(
            None, f"{len(result)} series where one is expected ({shown}{more}); aggregate them, e.g. sum(...)"
        )
    series = result[0]
    if not isinstance(series, dict) or "value" not in series:
        return sources.QueryResult(None, f"malformed vector sample: {_short(series)}")
    return _number(series["value"])


def split(
    result: Any, label: str, members: Mapping[str, str], *, empty_as_zero: bool = False
) -> dict[str, sources.QueryResult]:
    """Answer each member query of a batched `AGG by (label)` query from the series carrying its value."""
    if not isinstance(result, list) or any(not isinstance(s, dict) or "value" not in s for s in result):
        failed = sources.QueryResult(None, f"malformed batched result: {_short(result)}")
        return dict.fromkeys(members, failed)
    by_value = {str(s.get("metric", {}).get(label)): s["value"] for s in result}
    missing = sources.QueryResult(0.0) if empty_as_zero else sources.QueryResult(None, NO_DATA)
    return {
        query: _number(by_value[value]) if value in by_value else missing for query, value in members.items()
    }


def _number(sample: Any) -> sources.QueryResult:
    """A sample is `[unix_time, "value-as-string"]`; Prometheus spells NaN and infinities as strings."""
    if not isinstance(sample, list | tuple) or len(sample) != 2:
        return sources.QueryResult(None, f"malformed sample: {_short(sample)}")
    raw = sample[1]
    try:
        value = float(raw)
    except (TypeError, ValueError):
        return sources.QueryResult(None, f"not a number: {_short(raw)}")
    if not math.isfinite(value):
        return sources.QueryResult(None, f"the query returned {raw} (not a finite number)")
    return sources.QueryResult(value)


def _labels(series: Any) -> str:
    metric = series.get("metric", {}) if isinstance(series, dict) else {}
    return "{" + ", ".join(f'{k}="{v}"' for k, v in sorted(metric.items())) + "}"


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def series(result: Any) -> sources.SeriesResult:
    """Every series of an instant vector, with a finite value (NaN and infinities are left out)."""
    if not isinstance(result, list) or any(not isinstance(s, dict) or "value" not in s for s in result):
        return sources.SeriesResult((), f"not an instant vector: {_short(result)}")
    found = []
    for one in result:
        number = _number(one["value"])
        if number.value is not None:
            found.append((dict(one.get("metric") or {}), number.value))
    return sources.SeriesResult(tuple(found))
