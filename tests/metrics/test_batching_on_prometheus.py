"""Batching against a real Prometheus: batched answers equal one-by-one answers, whatever the queries.

A property test (hypothesis) draws same-shaped queries (aggregation, range function, the label that
varies, other matchers, values that exist and values that do not) over a family of series with
labels named like PromQL keywords, and checks that a batching source answers every query exactly as
one request per query does. The series never change during the test, so two evaluations a moment
apart see the same data (range functions that grow with the sample count are left out for that reason).
"""

from __future__ import annotations

import asyncio
import itertools
import math
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scaleplane.metrics import batching, sources
from scaleplane.metrics import prometheus as prometheus_source

pytestmark = [pytest.mark.servers, pytest.mark.slow]
JOB = "batching-property"
METRIC = "sp_prop_load"
LABELS = ("queue", "without", "nan", "bool", "on")
VALUES = ("a", "b", "c.d", "e-f", "g:h")
STEADY_FUNCTIONS = (
    *(None, "rate", "irate", "increase", "delta"),
    *("avg_over_time", "min_over_time", "max_over_time", "last_over_time"),
)


@pytest.fixture(scope="module")
def series(prometheus, exporter):
    """About 60 random series of METRIC (seeded: a failure replays), scraped at least three times."""
    rng = random.Random(15)
    gauge = exporter.gauge(METRIC, LABELS)
    combos = list(itertools.product(*[VALUES[:3]] * len(LABELS)))
    chosen = rng.sample(combos, 60)
    for combo in chosen:
        gauge.labels(*combo).set(rng.choice([0, 1, 2.5, 7, 1e6, -3, rng.uniform(0, 100)]))
    prometheus.add_target(JOB, exporter.address)
    prometheus.wait_for(f'count({METRIC}{{job="{JOB}"}})', lambda v: v == len(chosen), timeout=60)
    # Range functions need two samples in their window; wait for a few scrapes more.
    prometheus.wait_for(f'min(count_over_time({METRIC}{{job="{JOB}"}}[1m]))', lambda v: v >= 3, timeout=30)
    return prometheus


@st.composite
def query_sets(draw):
    agg = draw(st.sampled_from(batching.AGGREGATIONS))
    func = draw(st.sampled_from(STEADY_FUNCTIONS))
    varying = draw(st.sampled_from(LABELS))
    others = draw(st.lists(st.sampled_from([lb for lb in LABELS if lb != varying]), unique=True, max_size=2))
    fixed = [
        f'{lb}{draw(st.sampled_from(["=", "!=", "=~"]))}"{draw(st.sampled_from(VALUES))}"' for lb in others
    ]
    values = draw(st.lists(st.sampled_from(VALUES), min_size=2, max_size=5, unique=True))
    queries = []
    for value in values:
        matchers = [f'job="{JOB}"', *fixed, f'{varying}="{value}"']
        draw(st.randoms()).shuffle(matchers)  # the same shape spelled in any order
        selector = f"{METRIC}{{{', '.join(matchers)}}}"
        inner = f"{func}({selector}[1m])" if func else selector
        queries.append(f"{agg}({inner})")
    return queries


def _same(a: sources.QueryResult, b: sources.QueryResult) -> bool:
    if a.value is None or b.value is None:
        return a.value is b.value and a.error == b.error
    return math.isclose(a.value, b.value, rel_tol=1e-9, abs_tol=1e-9)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(query_sets(), min_size=1, max_size=4))
def test_batched_answers_equal_one_by_one_answers(series, groups):
    queries = [q for group in groups for q in group]
    alone = prometheus_source.PrometheusSource(series.url, deadline=20)
    together = prometheus_source.PrometheusSource(series.url, batch=True, deadline=20)
    try:
        expected = asyncio.run(alone.fetch(queries))
        got = asyncio.run(together.fetch(queries))
    finally:
        alone.close()
        together.close()
    assert set(got) == set(expected)
    wrong = {q: (got[q], expected[q]) for q in expected if not _same(got[q], expected[q])}
    assert not wrong
    assert together.requests_sent <= alone.requests_sent


async def test_a_label_prometheus_refuses_to_group_by_costs_one_request_then_none(series, monkeypatch):
    """What a keyword list misses (here: the list emptied), Prometheus refuses with a 400: the batch
    is re-sent one by one, every answer is right, and the shape is not merged again."""
    monkeypatch.setattr(batching, "UNGROUPABLE", frozenset())
    queries = [f'sum({METRIC}{{job="{JOB}", without="{v}"}})' for v in VALUES[:3]]
    alone = prometheus_source.PrometheusSource(series.url)
    together = prometheus_source.PrometheusSource(series.url, batch=True)
    try:
        expected = await alone.fetch(queries)
        assert all(r.value is not None for r in expected.values()), expected
        assert await together.fetch(queries) == expected
        assert together.requests_sent == 1 + len(queries) and len(together.avoided) == 1
        assert await together.fetch(queries) == expected
        assert together.requests_sent == 1 + 2 * len(queries)  # no second doomed batch
    finally:
        alone.close()
        together.close()


async def test_keyword_labels_are_answered(series):
    """The defect: `sum(x{without="a"})` and `sum(x{without="b"})` were merged into
    `sum by (without) (...)`, a parse error, and every query of the batch failed."""
    queries = [f'sum({METRIC}{{job="{JOB}", {label}="{v}"}})' for label in ("without", "nan") for v in "ab"]
    src = prometheus_source.PrometheusSource(series.url, batch=True)
    try:
        answers = await src.fetch(queries)
    finally:
        src.close()
    assert all(a.error is None for a in answers.values()), answers
    assert src.requests_sent == len(queries)


async def test_long_query_sets_go_as_post(series):
    queries = [f'max({METRIC}{{job="{JOB}", queue="{v}"}})' for v in VALUES]
    alone = prometheus_source.PrometheusSource(series.url)
    posting = prometheus_source.PrometheusSource(series.url, batch=True, post_above=100)
    try:
        expected = await alone.fetch(queries)
        assert await posting.fetch(queries) == expected
    finally:
        alone.close()
        posting.close()
    assert posting.requests_sent == 1 and posting.requests_posted == 1
    assert posting.batch_timeout(1000) == posting.deadline  # sized to the batch, within the deadline
    assert posting.batch_timeout(250) == 2 * posting.query_timeout
