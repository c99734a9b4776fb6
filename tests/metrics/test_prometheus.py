"""PrometheusSource against a real Prometheus scraping a real exporter, and against broken servers."""

from __future__ import annotations

import json
import socket

import pytest

from scaleplane.metrics import prometheus as prometheus_source

JOB = "metrics-adapter-tests"


@pytest.fixture(scope="module")
def scraped(prometheus, exporter):
    """The exporter's series, as seen by the real Prometheus (waits for the first scrape)."""
    exporter.gauge("sp_test_depth").set(7)
    exporter.gauge("sp_test_nan").set(float("nan"))
    per_queue = exporter.gauge("sp_test_queue", ("queue",))
    per_queue.labels("a").set(1)
    per_queue.labels("b").set(2)
    prometheus.add_target(JOB, exporter.address)
    prometheus.wait_for(f'count(sp_test_queue{{job="{JOB}"}})', lambda v: v == 2, timeout=60)
    prometheus.wait_for(f'sp_test_depth{{job="{JOB}"}}', lambda v: v == 7, timeout=30)
    return prometheus


@pytest.fixture
def source(scraped):
    src = prometheus_source.PrometheusSource(scraped.url, concurrency=4, query_timeout=5, deadline=20)
    yield src
    src.close()


async def test_answers_each_query_with_a_value_or_its_own_error(source):
    good = f'sp_test_depth{{job="{JOB}"}}'
    queries = [
        good,
        good,  # a duplicate: asked once
        f'sum(sp_test_queue{{job="{JOB}"}})',
        f'sp_test_queue{{job="{JOB}"}}',
        f'sp_test_nan{{job="{JOB}"}}',
        'sp_test_absent{job="nobody"}',
        "sum(rate(",
        "scalar(vector(5))",
    ]
    answers = await source.fetch(queries)
    assert source.requests_sent == 7
    assert answers[good].value == 7.0 and answers[good].error is None
    assert answers[f'sum(sp_test_queue{{job="{JOB}"}})'].value == 3.0
    several = answers[f'sp_test_queue{{job="{JOB}"}}']
    assert several.value is None and several.error.startswith("2 series where one is expected")
    assert 'queue="a"' in several.error
    assert answers[f'sp_test_nan{{job="{JOB}"}}'].error == "the query returned NaN (not a finite number)"
    assert answers['sp_test_absent{job="nobody"}'].error.startswith("no data")
    assert answers["sum(rate("].error.startswith("HTTP 400 from Prometheus: ")
    assert "parse error" in answers["sum(rate("].error
    assert answers["scalar(vector(5))"].value == 5.0


async def test_empty_as_zero_reads_no_series_as_zero(scraped):
    src = prometheus_source.PrometheusSource(scraped.url, empty_as_zero=True)
    try:
        answers = await src.fetch(['sp_test_absent{job="nobody"}'])
    finally:
        src.close()
    assert answers['sp_test_absent{job="nobody"}'].value == 0.0


async def test_a_refused_connection_is_an_error_per_query():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    src = prometheus_source.PrometheusSource(f"http://127.0.0.1:{port}")
    try:
        answers = await src.fetch(["up", "sum(up)"])
    finally:
        src.close()
    assert {q: a.error for q, a in answers.items()} == dict.fromkeys(
        ["up", "sum(up)"], f"cannot connect to Prometheus at http://127.0.0.1:{port}: connection refused"
    )


async def test_a_server_error_keeps_prometheus_own_message(broken_prometheus):
    body = json.dumps({"status": "error", "errorType": "internal", "error": "storage is on fire"}).encode()
    src = prometheus_source.PrometheusSource(broken_prometheus(status=503, body=body))
    try:
        answers = await src.fetch(["up"])
    finally:
        src.close()
    assert answers["up"].error == "HTTP 503 from Prometheus: storage is on fire"
    assert src.requests_sent == 1  # no hidden client-side retries


async def test_garbage_that_is_not_json_is_an_error(broken_prometheus):
    src = prometheus_source.PrometheusSource(broken_prometheus(body=b"<html>proxy login</html>"))
    try:
        answers = await src.fetch(["up"])
    finally:
        src.close()
    assert answers["up"].error == (
        "Prometheus answered with something that is not a query result: JSONDecodeError"
    )


async def test_json_without_a_result_is_an_error(broken_prometheus):
    src = prometheus_source.PrometheusSource(broken_prometheus(body=b'{"status": "success"}'))
    try:
        answers = await src.fetch(["up"])
    finally:
        src.close()
    assert answers["up"].error == "Prometheus answered with something that is not a query result: KeyError"


async def test_a_slow_prometheus_times_out_per_query_and_the_fetch_keeps_its_deadline(broken_prometheus):
    url = broken_prometheus(
        body=b'{"status":"success","data":{"resultType":"vector","result":[]}}', delay=1.5
    )
    src = prometheus_source.PrometheusSource(url, concurrency=1, query_timeout=0.3, deadline=0.5)
    try:
        answers = await src.fetch(["q1", "q2", "q3"])
    finally:
        src.close()
    errors = sorted(a.error for a in answers.values())
    assert errors[0] == "no answer within 0.3 s"
    assert errors[1:] == ["not answered within the fetch deadline of 0.5 s"] * 2


def test_settings_are_checked():
    with pytest.raises(ValueError, match="concurrency must be > 0, was 0"):
        prometheus_source.PrometheusSource("http://127.0.0.1:9", concurrency=0)


async def test_batched_answers_equal_one_query_at_a_time(scraped, exporter):
    dotted = exporter.gauge("sp_test_host", ("host",))
    dotted.labels("a.example").set(4)
    dotted.labels("aXexample").set(40)  # would match an unescaped `a.example`
    scraped.wait_for(f'sum(sp_test_host{{job="{JOB}"}})', lambda v: v == 44, timeout=30)
    queries = [
        f'sum(sp_test_queue{{job="{JOB}", queue="a"}})',
        f'sum(sp_test_queue{{job="{JOB}", queue="b"}})',
        f'sum(sp_test_queue{{queue="b", job="{JOB}"}})',  # the same query spelled differently
        f'sum(sp_test_queue{{job="{JOB}", queue="zzz"}})',  # no such series: no data, in both modes
        f'max(sp_test_host{{job="{JOB}", host="a.example"}})',
        f'max(sp_test_host{{job="{JOB}", host="aXexample"}})',
        f'sum(rate(sp_test_queue{{job="{JOB}", queue="a"}}[1m]))',
        f'sum(rate(sp_test_queue{{job="{JOB}", queue="b"}}[1m]))',
        f'sp_test_queue{{job="{JOB}"}}',  # not batchable: stays an error about several series
    ]
    one_by_one = prometheus_source.PrometheusSource(scraped.url)
    batched = prometheus_source.PrometheusSource(scraped.url, batch=True)
    try:
        alone = await one_by_one.fetch(queries)
        together = await batched.fetch(queries)
    finally:
        one_by_one.close()
        batched.close()
    assert together == alone
    assert one_by_one.requests_sent == 9
    assert batched.requests_sent == 4  # queue (4 members), host (2), rate (2), the odd one out
    assert alone[queries[4]].value == 4 and alone[queries[5]].value == 40
    assert alone[queries[3]].error.startswith("no data")


async def test_a_failed_batch_is_re_sent_query_by_query(broken_prometheus):
    src = prometheus_source.PrometheusSource(broken_prometheus(status=500, body=b"{}"), batch=True)
    queries = ['sum(x{q="a"})', 'sum(x{q="b"})']
    try:
        answers = await src.fetch(queries)
    finally:
        src.close()
    assert src.requests_sent == 3  # the batch, then each query alone, each failing on its own
    assert src.avoided == set()  # a 500 says nothing against the shape: it is merged again next time
    assert {q: a.error for q, a in answers.items()} == dict.fromkeys(queries, "HTTP 500 from Prometheus: {}")
