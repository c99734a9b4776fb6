"""Demand traces: the load a simulation replays, parsed from lines of text (the caller opens the file).

Two formats, told apart by the header row:

- a demand series, `t,demand`: `t` in seconds, advancing by one fixed step; `demand` in work units per
  second, held over the step that starts at `t` (piecewise constant);
- a request log, one row per request with a `TIMESTAMP` column (seconds as a number, or a date-time
  as ISO 8601, RFC 2822 or web servers' Common Log Format write it: `simulating.timestamps`), as in
  the Azure LLM traces.
  Requests are counted into buckets of `bucket_seconds` from the first request; a bucket's demand is
  its work over its length. Each request is one unit of work, or with `weight_columns` the sum of
  those columns (e.g. tokens). A trailing bucket covering less than half its length is dropped,
  because dividing its few requests by the full length would invent a fall in load that never happened.

A request log's demand is kept as runs (`simulating.runlengths`): a gap of ten years between requests is
one run of zeros, not one bucket each, so what is refused is what costs memory: more than `MAX_RUNS`
runs, or a span of more than `MAX_SPAN_YEARS` years or `MAX_SPAN_TICKS` buckets (a wrong timestamp, not
a longer trace).

Every problem raises `TraceError` naming the source, the line, the column and the value.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from scaleplane.scaling.simulating import runlengths, timestamps

MAX_TICKS = 5_000_000  # one float per tick (`resample`): a year at 15 s is 2.1 million
MAX_RUNS = 5_000_000  # runs of demand (`resample_runs`, request logs): what costs memory
MAX_SPAN_TICKS = 1_000_000_000  # a century at 15 s is 210 million: more is a wrong timestamp or unit
# No request log spans decades: two stamps this far apart are a typo or a 0 (1970), not a quiet spell. A
# ten-year gap is accepted (it costs one run of zeros); the Unix epoch beside this year's stamps is not.
MAX_SPAN_YEARS = 20


@dataclass(frozen=True)
class DemandTrace:
    """`demand[i]` work units per second, held over [i * step, (i + 1) * step) seconds from the start.

    A tuple for a `t,demand` series; a per-step view of runs (`runlengths.Ticks`) for a request log.
    """

    name: str
    step_seconds: float
    demand: Sequence[float]
    unit: str = "units/s"
    start: float = 0.0  # epoch seconds of the first step when the trace knows it (request logs), else 0

    @property
    def duration_seconds(self) -> float:
        return self.step_seconds * len(self.demand)

    def runs(self) -> runlengths.Runs:
        """The demand as runs of equal values, without a step per value when it already is runs."""
        if isinstance(self.demand, runlengths.Ticks):
            return self.demand.runs
        return runlengths.Runs.of(self.demand)


class TraceError(ValueError):
    """A bad trace: `source:line: column 'name': what is wrong, was 'value'`."""

    def __init__(self, source: str, line: int | None, message: str) -> None:
        where = source if line is None else f"{source}:{line}"
        super().__init__(f"{where}: {message}")


def parse_trace(
    lines: Iterable[str],
    *,
    source: str,
    bucket_seconds: float = 15.0,
    weight_columns: Sequence[str] = (),
) -> DemandTrace:
    """Parse a `t,demand` series or a request log (see the module docstring) into a DemandTrace."""
    if not (math.isfinite(bucket_seconds) and bucket_seconds > 0):
        raise TraceError(source, None, f"bucket length must be > 0 seconds, was {bucket_seconds!r}")
    reader = csv.reader(lines)
    header = next(reader, None)
    if header is None:
        raise TraceError(source, None, "is empty: expected a header 't,demand' or one with 'TIMESTAMP'")
    columns = [c.strip() for c in header]
    lowered = [c.lower() for c in columns]
    if "timestamp" in lowered:
        return _parse_request_log(reader, columns, source, bucket_seconds, weight_columns)
    if lowered[:2] == ["t", "demand"]:
        if weight_columns:
            raise TraceError(source, 1, "weight columns apply to request logs only, not to 't,demand'")
        return _parse_series(reader, source)
    raise TraceError(
        source, 1, f"unknown header {','.join(columns)!r}: expected 't,demand' or a 'TIMESTAMP' column"
    )


def _parse_series(reader: Iterable[list[str]], source: str) -> DemandTrace:
    times: list[float] = []
    demand: list[float] = []
    for number, row in enumerate(reader, start=2):
        if not row or not "".join(row).strip():
            continue
        if len(row) < 2:
            raise TraceError(source, number, f"expected 2 columns 't,demand', was {','.join(row)!r}")
        t = _number(row[0], source, number, "t")
        value = _number(row[1], source, number, "demand")
        if value < 0:
            raise TraceError(source, number, f"column 'demand': must be >= 0, was {row[1].strip()!r}")
        if times:
            step = (times[1] - times[0]) if len(times) > 1 else t - times[-1]
            if step <= 0 or not math.isclose(t - times[-1], step, rel_tol=1e-6, abs_tol=1e-6):
                raise TraceError(
                    source,
                    number,
                    f"column 't': must advance by one fixed step > 0"
                    f"{f' ({step:g} s)' if step > 0 else ''}, was {row[0].strip()!r} after {times[-1]:g}",
                )
        times.append(t)
        demand.append(value)
    if len(demand) < 2:
        raise TraceError(source, None, f"needs at least 2 rows of 't,demand', has {len(demand)}")
    return DemandTrace(name=source, step_seconds=times[1] - times[0], demand=tuple(demand), start=times[0])


def _parse_request_log(
    reader: Iterable[list[str]],
    columns: list[str],
    source: str,
    bucket_seconds: float,
    weight_columns: Sequence[str],
) -> DemandTrace:
    lowered = [c.lower() for c in columns]
    time_index = lowered.index("timestamp")
    weight_indexes: list[int] = []
    for name in weight_columns:
        if name.lower() not in lowered:
            raise TraceError(source, 1, f"no weight column {name!r}; columns are {', '.join(columns)}")
        weight_indexes.append(lowered.index(name.lower()))
    events: list[tuple[float, float, int]] = []
    for number, row in enumerate(reader, start=2):
        if not row or not "".join(row).strip():
            continue
        if len(row) != len(columns):
            raise TraceError(source, number, f"expected {len(columns)} columns, was {len(row)}")
        at = _timestamp(row[time_index], source, number, columns[time_index])
        weight = 1.0
        if weight_indexes:
            weight = 0.0
            for index in weight_indexes:
                part = _number(row[index], source, number, columns[index])
                if part < 0:
                    raise TraceError(
                        source, number, f"column {columns[index]!r}: must be >= 0, was {row[index].strip()!r}"
                    )
                weight += part
        events.append((at, weight, number))
    if not events:
        raise TraceError(source, None, "has a header but no requests")
    first, last = min(events), max(events)
    start = first[0]
    span = last[0] - start
    too_long = span > MAX_SPAN_YEARS * 365.25 * 86400
    if too_long or span / bucket_seconds > MAX_SPAN_TICKS:  # one stamp far from the rest: a typo or unit
        limit = (
            f"{MAX_SPAN_YEARS} years" if too_long else f"{MAX_SPAN_TICKS:,} buckets of {bucket_seconds:g} s"
        )
        raise TraceError(
            source,
            last[2],
            f"the requests span {span / 86400:,.0f} days (line {first[2]} to line {last[2]}), more than "
            f"{limit}: is one timestamp wrong?",
        )
    full, rest = divmod(span, bucket_seconds)
    count = max(1, int(full) + (1 if rest >= bucket_seconds / 2 else 0))
    work: dict[int, float] = {}  # only the buckets that hold a request: a gap costs nothing
    for at, weight, _ in events:
        index = int((at - start) // bucket_seconds)
        if index < count:
            work[index] = work.get(index, 0.0) + weight
    if 2 * len(work) + 1 > MAX_RUNS:
        raise TraceError(
            source,
            None,
            f"has requests in {len(work):,} buckets of {bucket_seconds:g} s, more than "
            f"{MAX_RUNS // 2:,}: use a longer bucket (--tick)",
        )
    runs = runlengths.Builder()
    at_bucket = 0
    for index in sorted(work):
        runs.repeat(0.0, index - at_bucket)
        runs.append(work[index] / bucket_seconds)
        at_bucket = index + 1
    runs.repeat(0.0, count - at_bucket)
    unit = "+".join(weight_columns) + "/s" if weight_columns else "requests/s"
    return DemandTrace(
        name=source,
        step_seconds=bucket_seconds,
        demand=runlengths.Ticks(runs.runs()),
        unit=unit,
        start=start,
    )


def _number(text: str, source: str, line: int, column: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise TraceError(source, line, f"column {column!r}: must be a number, was {text.strip()!r}") from None
    if not math.isfinite(value):
        raise TraceError(source, line, f"column {column!r}: must be finite, was {text.strip()!r}")
    return value


def _timestamp(text: str, source: str, line: int, column: str) -> float:
    try:
        return timestamps.seconds(text)
    except ValueError as exc:
        raise TraceError(source, line, f"column {column!r}: {exc}") from None


def resample(trace: DemandTrace, tick_seconds: float) -> list[float]:
    """The trace's mean demand over each tick [k * tick, (k + 1) * tick), for every whole tick it covers.

    Exact for a piecewise-constant series whatever the two steps are (15 s ticks over a 60 s series,
    or over 1 s buckets): each tick's work is the integral of the demand over it.
    """
    step = trace.step_seconds
    if trace.duration_seconds / tick_seconds > MAX_TICKS:
        raise TraceError(
            trace.name,
            None,
            f"lasts {trace.duration_seconds / 86400:,.0f} days, more than {MAX_TICKS:,} ticks of "
            f"{tick_seconds:g} s (a step of {step:g} s between rows: is column 't' in seconds?)",
        )
    ticks = int(trace.duration_seconds // tick_seconds + 1e-9)
    out: list[float] = []
    for k in range(ticks):
        lo, hi = k * tick_seconds, (k + 1) * tick_seconds
        first, last = int(lo // step), min(len(trace.demand) - 1, math.ceil(hi / step) - 1)
        work = 0.0
        for i in range(first, last + 1):
            overlap = min(hi, (i + 1) * step) - max(lo, i * step)
            if overlap > 0:
                work += trace.demand[i] * overlap
        out.append(work / tick_seconds)
    return out
