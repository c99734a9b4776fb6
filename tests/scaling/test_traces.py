"""Trace parsing: both formats, bucketing, weighting, resampling, and errors that name line and column."""

from __future__ import annotations

import re

import pytest

from scaleplane.scaling.simulating import traces


def parse(text: str, **kwargs: object) -> traces.DemandTrace:
    return traces.parse_trace(text.splitlines(), source="t.csv", **kwargs)  # type: ignore[arg-type]


def test_series_keeps_values_step_and_start() -> None:
    trace = parse("t,demand\n100,1.5\n115,2\n130,0\n")
    assert trace.demand == (1.5, 2.0, 0.0)
    assert trace.step_seconds == 15
    assert trace.start == 100
    assert trace.duration_seconds == 45


def test_request_log_buckets_counts_into_rates() -> None:
    # 3 requests in [0, 10), 1 in [10, 20), 2 in [20, 30): the last bucket is complete enough (>= 5 s).
    text = "TIMESTAMP,x\n0,1\n1,1\n9.9,1\n10,1\n20,1\n26,1\n"
    trace = parse(text, bucket_seconds=10)
    assert trace.demand == pytest.approx((0.3, 0.1, 0.2))
    assert trace.unit == "requests/s"


def test_request_log_drops_a_short_trailing_bucket() -> None:
    trace = parse("TIMESTAMP\n0\n5\n10\n12\n", bucket_seconds=10)
    assert trace.demand == pytest.approx((0.2,))  # [10, 12] covers 2 s of 10: dropped


def test_request_log_reads_iso_timestamps_with_seven_digit_fractions() -> None:
    text = (
        "TIMESTAMP,ContextTokens,GeneratedTokens\n"
        "2023-11-16 18:15:46.6805900,374,44\n"
        "2023-11-16 18:15:50.9951690,396,109\n"
        "2023-11-16 18:16:01.2224670,879,55\n"
    )
    trace = parse(text, bucket_seconds=10)
    assert trace.demand == pytest.approx((0.2,))
    weighted = parse(text, bucket_seconds=10, weight_columns=("ContextTokens", "GeneratedTokens"))
    assert weighted.demand == pytest.approx(((374 + 44 + 396 + 109) / 10,))
    assert weighted.unit == "ContextTokens+GeneratedTokens/s"
    assert trace.start == pytest.approx(1700158546.68059)


def test_resample_integrates_over_ticks_of_any_length() -> None:
    trace = traces.DemandTrace("x", 10.0, (1.0, 3.0, 5.0))
    assert traces.resample(trace, 5.0) == pytest.approx([1, 1, 3, 3, 5, 5])
    assert traces.resample(trace, 15.0) == pytest.approx([(1 * 10 + 3 * 5) / 15, (3 * 5 + 5 * 10) / 15])
    assert traces.resample(trace, 30.0) == pytest.approx([3.0])


@pytest.mark.parametrize(
    ("text", "kwargs", "message"),
    [
        ("", {}, "t.csv: is empty"),
        ("time,load\n0,1\n", {}, "t.csv:1: unknown header 'time,load'"),
        ("t,demand\n0,1\n15,abc\n", {}, "t.csv:3: column 'demand': must be a number, was 'abc'"),
        ("t,demand\n0,1\n15,-2\n", {}, "t.csv:3: column 'demand': must be >= 0, was '-2'"),
        ("t,demand\n0,1\n15,inf\n", {}, "t.csv:3: column 'demand': must be finite, was 'inf'"),
        ("t,demand\n0,1\n15,1\n31,1\n", {}, "t.csv:4: column 't': must advance by one fixed step > 0 (15 s)"),
        ("t,demand\n0,1\n0,1\n", {}, "t.csv:3: column 't': must advance by one fixed step > 0"),
        ("t,demand\n0,1\n", {}, "needs at least 2 rows"),
        ("t,demand\n0\n15,1\n", {}, "t.csv:2: expected 2 columns"),
        ("TIMESTAMP,a\n0,1\nyesterday,2\n", {}, "t.csv:3: column 'TIMESTAMP': must be seconds, an ISO 8601"),
        ("TIMESTAMP,a\n0,1\n1\n", {}, "t.csv:3: expected 2 columns, was 1"),
        ("TIMESTAMP\n", {}, "has a header but no requests"),
        ("TIMESTAMP,a\n0,1\n", {"weight_columns": ("b",)}, "t.csv:1: no weight column 'b'"),
        ("TIMESTAMP,a\n0,x\n", {"weight_columns": ("a",)}, "t.csv:2: column 'a': must be a number, was 'x'"),
        ("TIMESTAMP,a\n0,-1\n", {"weight_columns": ("a",)}, "t.csv:2: column 'a': must be >= 0, was '-1'"),
        ("TIMESTAMP\n0\n", {"bucket_seconds": 0}, "bucket length must be > 0 seconds, was 0"),
    ],
)
def test_bad_traces_name_source_line_column_and_value(
    text: str, kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(traces.TraceError) as caught:
        parse(text, **kwargs)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    "stamp",
    [
        "2024-05-10T12:00:00Z",
        "2024-05-10 12:00:00.0000000",
        "Fri, 10 May 2024 12:00:00 GMT",
        "10/May/2024:12:00:00 +0000",
        "1715342400",
    ],
)
def test_common_timestamp_forms_are_understood(stamp: str) -> None:
    lines = ["TIMESTAMP", f'"{stamp}"', f'"{stamp}"', "1715342460"]
    assert traces.parse_trace(lines, source="t.csv", bucket_seconds=60).start == 1715342400


@pytest.mark.parametrize(
    ("stamp", "problem"),
    [
        ("1715342400000", "t.csv:2: column 'TIMESTAMP': '1715342400000' looks like milliseconds"),
        ("10/05/2024 12:00", "day/month order unknown"),
        ("yesterday", "must be seconds, an ISO 8601 / RFC 3339, RFC 2822 or Common Log Format date-time"),
    ],
)
def test_other_timestamp_forms_are_refused_by_name(stamp: str, problem: str) -> None:
    with pytest.raises(traces.TraceError, match=re.escape(problem)):
        traces.parse_trace(["TIMESTAMP", stamp], source="t.csv")


TEN_YEARS = 10 * 365 * 86400  # seconds, a whole number of 15 s buckets


def test_a_ten_year_gap_between_requests_is_one_run_of_zeros() -> None:
    from scaleplane.scaling.simulating import resampling, runlengths

    busy = [f"{1.45e9 + s / 4:.2f}" for s in range(4 * 600)]  # 4 requests/s for 10 minutes
    later = [f"{1.45e9 + TEN_YEARS + s / 4:.2f}" for s in range(4 * 600)]
    trace = traces.parse_trace(["TIMESTAMP", *busy, *later], source="gap.csv")
    assert isinstance(trace.demand, runlengths.Ticks)
    ticks = resampling.resample_runs(trace, 15.0)
    assert ticks.ticks == (TEN_YEARS + 600) // 15
    assert ticks.values == (4.0, 0.0, 4.0)  # a constant busy span stays one run, the gap is one
    assert ticks.lengths == (40, (TEN_YEARS - 600) // 15, 40)


def test_runs_resample_exactly_as_per_tick_over_zeros_and_values() -> None:
    from scaleplane.scaling.simulating import resampling

    demand = (0.0,) * 7 + (1.3, 0.0, 0.0, 2.0, 2.0, 2.0) + (0.0,) * 9 + (0.7,)
    for step, tick in [(10.0, 15.0), (15.0, 15.0), (60.0, 15.0), (7.0, 2.7), (1.0, 30.0)]:
        trace = traces.DemandTrace("x", step, demand)
        assert resampling.resample_runs(trace, tick).expanded() == traces.resample(trace, tick)


def test_too_many_runs_or_a_wrong_unit_are_refused_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    from scaleplane.scaling.simulating import resampling

    monkeypatch.setattr(traces, "MAX_RUNS", 100)
    with pytest.raises(traces.TraceError, match=r"^many\.csv: has requests in 199 buckets .*\(--tick\)"):
        traces.parse_trace(["TIMESTAMP", *(str(15 * k) for k in range(200))], source="many.csv")
    # t in milliseconds read as seconds: 15,000 s steps of non-zero demand, 1,000 ticks each
    series = traces.parse_trace(["t,demand", "0,1", "15000,1", "30000,1"], source="ms.csv")
    with pytest.raises(traces.TraceError, match=r"^ms\.csv: lasts 1 days .*is column 't' in seconds\?"):
        resampling.resample_runs(series, 15.0)
    with pytest.raises(traces.TraceError, match=r"bad\.csv:3: .* looks like milliseconds"):
        traces.parse_trace(["TIMESTAMP", "1715342400", "1715342400000"], source="bad.csv")
