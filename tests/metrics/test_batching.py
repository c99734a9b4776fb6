"""metrics.batching: which queries batch, into what, and which never do."""

from __future__ import annotations

import pytest

from scaleplane.metrics import batching


def test_same_shaped_queries_become_one_grouped_query():
    queries = [f'sum(queue_depth{{queue="q{i}", env="prod"}})' for i in range(3)]
    batches, singles = batching.plan(queries)
    assert singles == []
    [batch] = batches
    assert batch.query == 'sum by (queue) (queue_depth{env="prod", queue=~"q0|q1|q2"})'
    assert batch.members == {q: f"q{i}" for i, q in enumerate(queries)}


def test_range_functions_batch_and_dots_are_escaped():
    queries = [
        'avg(rate(http_requests_total{host="a.example"}[1m]))',
        'avg(rate(http_requests_total{host="b"}[1m]))',
    ]
    [batch], singles = batching.plan(queries)
    assert batch.query == r'avg by (host) (rate(http_requests_total{host=~"a\\.example|b"}[1m]))'
    assert singles == []


@pytest.mark.parametrize(
    "query",
    [
        'queue_depth{queue="q1"}',  # no aggregation: several series could come back, must stay an error
        'sum by (queue) (queue_depth{queue="q1"})',
        'sum(queue_depth{queue="q1"}) by (queue)',
        'sum(queue_depth{queue="q1"}) / 2',
        'sum(max(queue_depth{queue="q1"}))',  # an inner aggregation drops the label
        'sum(queue_depth{queue="q1"} / up)',
        'sum(queue_depth{queue=~"q1"})',  # only equality matchers vary
        'sum(queue_depth{queue="q\\"1"})',  # escapes: never batched
        'sum(rate(queue_depth{queue="q1"}))',  # rate without a range: Prometheus says why
        'sum(queue_depth{queue="q1"}[5m])',
        'sum(queue_depth{queue="q1", queue="q2"})',
        "sum(queue_depth)",
    ],
)
def test_anything_outside_the_grammar_is_sent_alone(query):
    other = query.replace('"q1"', '"q9"') if '"q1"' in query else query + " "
    batches, singles = batching.plan([query, other])
    assert batches == [] and singles == [query, other]


def test_a_query_joins_its_largest_group_and_lonely_ones_stay_single():
    by_queue = [f'sum(depth{{queue="q{i}", team="a"}})' for i in range(3)]
    lonely = 'sum(other{queue="q1"})'
    batches, singles = batching.plan([*by_queue, lonely])
    assert [b.shape.label for b in batches] == ["queue"]
    assert singles == [lonely]


def test_large_groups_are_cut_into_chunks():
    queries = [f'sum(depth{{queue="q{i}"}})' for i in range(5)]
    batches, singles = batching.plan(queries, max_batch=2)
    assert [len(b.members) for b in batches] == [2, 2]
    assert singles == [queries[4]]


@pytest.mark.parametrize("label", ["without", "nan", "Inf", "on", "bool", "__name__", "offset", "BY"])
def test_labels_prometheus_cannot_group_by_are_left_unmerged(label):
    queries = [f'sum(depth{{{label}="a"}})', f'sum(depth{{{label}="b"}})']
    assert batching.plan(queries) == ([], queries)
    assert not batching.groupable(label)


def test_a_label_that_merely_starts_like_a_keyword_is_merged():
    [batch], _ = batching.plan(['sum(depth{infra="a"})', 'sum(depth{infra="b"})'])
    assert batch.query == 'sum by (infra) (depth{infra=~"a|b"})'


def test_avoided_shapes_are_not_merged_again():
    queries = ['sum(depth{queue="a"})', 'sum(depth{queue="b"})']
    [batch], _ = batching.plan(queries)
    assert batching.plan(queries, avoid={batch.shape}) == ([], queries)
