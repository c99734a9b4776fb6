"""PrometheusSource: the production MetricsSource, over prometheus-api-client.

One tick's fetch sends one `/api/v1/query` request per DISTINCT query (KEDA sends one per trigger per
poll), or with `batch=True` one per batch of same-shaped queries (metrics.batching); at most
`concurrency` at a time on a thread pool (the client is synchronous; its requests session keeps that
many connections alive), each with its own timeout, all within an overall deadline. Every failure
becomes that query's error and never an exception:

    HTTP 4xx/5xx        "HTTP 400 from Prometheus: <Prometheus' own error text>"
    timeout             "no answer within 5 s"
    refused / DNS       "cannot connect to Prometheus at URL: ..."
    not JSON / no data  "Prometheus answered with something that is not a query result: ..."
    deadline            "not answered within the fetch deadline of 10 s"
    odd values          see metrics.results (NaN, Inf, no series, several series)

The client's own retries are switched off: a tick retries by being the next tick, and one request per
query is what the request counter (`requests_sent`, read by the benchmark) promises.

Batches (`batch=True`) must never cost a tick more than they save:
- a batched query is given `query_timeout * (1 + members / 250)` (within the deadline): 1,000
  queries answered together take longer than one;
- a batch that fails for any reason but an unreachable Prometheus is re-sent query by query within
  the same deadline, so one bad member (or a label name Prometheus will not group by) costs only
  itself; a batch Prometheus refused as a parse error (HTTP 400) is never merged again in this process;
- a query longer than `post_above` characters once URL-encoded goes as a form-encoded POST (the
  query API takes both), since proxies and servers cap URLs at 4 to 8 KiB.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
from collections.abc import Collection
from concurrent import futures
from typing import Any
from urllib import parse

import requests
import urllib3
from prometheus_api_client.exceptions import PrometheusApiClientException
from prometheus_api_client.prometheus_connect import PrometheusConnect
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from scaleplane.metrics import batching, results, sources

_STATUS = re.compile(r"HTTP Status Code (\d+) \((.*)\)$", re.S)


class PrometheusSource:
    """A MetricsSource reading `url` (e.g. http://127.0.0.1:9090). Call `close()` when done.

    concurrency:   requests in flight at once (threads and kept-alive connections).
    query_timeout: seconds for one request (connect and read), also sent as Prometheus' own `timeout`
                   so the server stops evaluating a query nobody waits for.
    deadline:      seconds for a whole fetch; queries not answered by then get an error.
    empty_as_zero: read "no series" as 0 instead of an error (KEDA's ignoreNullValues); off by default
                   so that missing data never triggers a scale-down.
    batch:         send queries of one shape as one `AGG by (label)` query (see metrics.batching):
                   exact values, far fewer requests; off by default (then one request per query).
    max_batch:     at most this many queries in one batched request.
    post_above:    a query longer than this (URL-encoded) is POSTed rather than sent in the URL.
    """

    def __init__(
        self,
        url: str,
        *,
        concurrency: int = 8,
        query_timeout: float = 5.0,
        deadline: float = 10.0,
        empty_as_zero: bool = False,
        batch: bool = False,
        max_batch: int = 1000,
        post_above: int = 4096,
        headers: dict[str, str] | None = None,
    ) -> None:
        for name, value in (
            ("concurrency", concurrency),
            ("query_timeout", query_timeout),
            ("deadline", deadline),
            ("max_batch", max_batch),
            ("post_above", post_above),
        ):
            if value <= 0:
                raise ValueError(f"{name} must be > 0, was {value}")
        self.url = url.rstrip("/")
        self.concurrency = concurrency
        self.query_timeout = query_timeout
        self.deadline = deadline
        self.empty_as_zero = empty_as_zero
        self.batch = batch
        self.max_batch = max_batch
        self.post_above = post_above
        self.requests_sent = 0
        self.requests_posted = 0
        self.avoided: set[batching.Shape] = set()  # shapes whose batched query Prometheus refused
        self._headers = dict(headers or {})
        self._counter_lock = threading.Lock()
        session = requests.Session()
        self._client = PrometheusConnect(
            url=self.url, headers=dict(headers or {}), session=session, retry=Retry(total=0)
        )
        # Mounted after the client's own adapter so it wins: no retries, a pool as large as the threads.
        session.mount(self.url, HTTPAdapter(max_retries=Retry(total=0), pool_maxsize=concurrency))
        self._session = session
        self._pool = futures.ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="prometheus")

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._session.close()

    async def fetch(self, queries: Collection[str]) -> dict[str, sources.QueryResult]:
        unique = list(dict.fromkeys(queries))
        if not unique:
            return {}
        loop = asyncio.get_running_loop()
        ends_at = loop.time() + self.deadline
        jobs: dict[asyncio.Future[dict[str, sources.QueryResult]], list[str]] = {}
        batches: list[batching.Batch] = []
        singles = unique
        if self.batch:
            batches, singles = batching.plan(unique, max_batch=self.max_batch, avoid=self.avoided)
        for one in batches:
            jobs[loop.run_in_executor(self._pool, self._query_batch, one)] = list(one.members)
        for query in singles:
            jobs[loop.run_in_executor(self._pool, self._query, query)] = [query]
        answers = await self._collect(jobs, ends_at)
        # Second wave: members of failed batches, one by one, in what is left of the deadline.
        again = [q for q, answer in answers.items() if answer is _RESEND]
        if again:
            jobs = {loop.run_in_executor(self._pool, self._query, q): [q] for q in again}
            answers.update(await self._collect(jobs, ends_at))
        return answers

    async def fetch_series(self, queries: Collection[str]) -> dict[str, sources.SeriesResult]:
        """Every series of each query, within the same deadline and pool as `fetch`; never raises."""
        unique = list(dict.fromkeys(queries))
        if not unique:
            return {}
        loop = asyncio.get_running_loop()
        jobs = {loop.run_in_executor(self._pool, self._query_series, q): q for q in unique}
        done, late = await asyncio.wait(jobs, timeout=self.deadline)
        answers = {jobs[future]: future.result() for future in done}
        for future in late:
            future.cancel()
            answers[jobs[future]] = sources.SeriesResult(
                (), f"not answered within the fetch deadline of {self.deadline:g} s"
            )
        return answers

    def _query_series(self, query: str) -> sources.SeriesResult:
        data, error = self._request(query, self.query_timeout)
        if error is not None:
            return sources.SeriesResult((), error)
        return results.series(data)

    async def _collect(
        self, jobs: dict[asyncio.Future[dict[str, sources.QueryResult]], list[str]], ends_at: float
    ) -> dict[str, sources.QueryResult]:
        timeout = max(0.0, ends_at - asyncio.get_running_loop().time())
        done, late = await asyncio.wait(jobs, timeout=timeout) if jobs else (set(), set())
        answers: dict[str, sources.QueryResult] = {}
        for future in done:
            answers.update(future.result())
        for future in late:
            future.cancel()  # not started yet: it never will; started: its own timeout ends it
            missed = sources.QueryResult(
                None, f"not answered within the fetch deadline of {self.deadline:g} s"
            )
            answers.update(dict.fromkeys(jobs[future], missed))
        return answers

    def _query(self, query: str) -> dict[str, sources.QueryResult]:
        data, error = self._request(query, self.query_timeout)
        if error is not None:
            return {query: sources.QueryResult(None, error)}
        return {query: results.interpret(data, empty_as_zero=self.empty_as_zero)}

    def batch_timeout(self, members: int) -> float:
        return min(self.deadline, self.query_timeout * (1 + members / 250))

    def _query_batch(self, batch: batching.Batch) -> dict[str, sources.QueryResult]:
        data, error = self._request(batch.query, self.batch_timeout(len(batch.members)))
        if error is None:
            return results.split(data, batch.shape.label, batch.members, empty_as_zero=self.empty_as_zero)
        if error.startswith("HTTP 400 ") and "parse error" in error:  # never this shape merged again
            self.avoided.add(batch.shape)
        if error.startswith("cannot connect"):  # one by one would meet the same closed door
            return dict.fromkeys(batch.members, sources.QueryResult(None, error))
        return dict.fromkeys(batch.members, _RESEND)

    def _send(self, query: str, timeout: float) -> Any:
        params = {"timeout": f"{max(1, round(timeout * 1000))}ms"}  # Prometheus takes whole units only
        if len(parse.quote(query, safe="")) <= self.post_above:
            return self._client.custom_query(
                query,
                params=params,
                timeout=timeout,  # type: ignore[arg-type]  # typed int, requests takes float
            )
        with self._counter_lock:
            self.requests_posted += 1
        form = {"query": query, **params}
        rsp = self._session.post(
            f"{self.url}/api/v1/query", data=form, headers=self._headers, timeout=timeout
        )
        if rsp.status_code != 200:  # the client's own error shape, so that _http_error reads both
            raise PrometheusApiClientException(f"HTTP Status Code {rsp.status_code} ({rsp.content!r})")
        return rsp.json()["data"]["result"]

    def _request(self, query: str, timeout: float) -> tuple[Any, str | None]:
        """(Prometheus' `data.result`, None), or (None, why there is none)."""
        with self._counter_lock:
            self.requests_sent += 1
        try:
            data = self._send(query, timeout)
        except PrometheusApiClientException as exc:
            return None, _http_error(str(exc))
        except requests.Timeout:
            return None, f"no answer within {timeout:g} s"
        except requests.ConnectionError as exc:
            if _timed_out(exc):  # with retries off, urllib3 reports a read timeout as a connection error
                return None, f"no answer within {timeout:g} s"
            return None, f"cannot connect to Prometheus at {self.url}: {_reason(exc)}"
        except (ValueError, KeyError, TypeError) as exc:  # JSON decode errors are ValueErrors
            return (
                None,
                f"Prometheus answered with something that is not a query result: {type(exc).__name__}",
            )
        except requests.RequestException as exc:
            return None, f"request to Prometheus failed: {type(exc).__name__}: {exc}"
        return data, None


# A marker, never returned by fetch: this member's batch failed, ask for it alone.
_RESEND = sources.QueryResult(None, "re-send alone")


def _http_error(message: str) -> str:
    """Keep the status and Prometheus' own error text (`{"status":"error","error":"..."}`) if any."""
    match = _STATUS.match(message)
    if not match:
        return f"Prometheus error: {message[:300]}"
    status, body = match.groups()
    detail = _error_text(body)
    return f"HTTP {status} from Prometheus: {detail}"


def _error_text(body: str) -> str:
    # The client formats the body as a bytes repr: b'...'; an eval would be wrong, so strip by hand.
    text = body[2:-1] if body.startswith(("b'", 'b"')) else body
    try:
        payload: Any = json.loads(text.encode().decode("unicode_escape"))
    except ValueError:
        return text[:300] or "(empty body)"
    if isinstance(payload, dict) and payload.get("error"):
        return str(payload["error"])[:300]
    return text[:300]


def _timed_out(exc: requests.ConnectionError) -> bool:
    cause = exc.args[0] if exc.args else None
    reason = getattr(cause, "reason", cause)
    # NewConnectionError (refused) subclasses ConnectTimeoutError for historical reasons.
    timeout = isinstance(reason, urllib3.exceptions.TimeoutError)
    return timeout and not isinstance(reason, urllib3.exceptions.NewConnectionError)


def _reason(exc: requests.ConnectionError) -> str:
    text = str(exc)
    if "Connection refused" in text:
        return "connection refused"
    return text[:200]
