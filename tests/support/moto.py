"""A real moto_server (the AWS API emulator) on a free 127.0.0.1 port, for the tests that talk to AWS
APIs (RDS targets, Cost Explorer, DR drills): started, waited for, and ended with its process group."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import requests

from tests.support.endpoints import free_port, serve


@contextlib.contextmanager
def running_server(*, start_timeout: float = 20.0) -> Iterator[str]:
    """Yield the URL of a moto_server that answers; it is stopped (SIGTERM, then SIGKILL) on exit."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + start_timeout
        while True:
            try:
                requests.get(f"{url}/moto-api/", timeout=1)
                break
            except requests.ConnectionError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError(f"moto_server did not start on {url}") from None
                time.sleep(0.1)
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def aws_clients(url: str, *, max_lag_seconds: float = 30.0) -> Any:
    """The operator's AwsClients (targets.awscalls) pointed at the moto_server at `url`."""
    import boto3

    from scaleplane.targets import awscalls

    settings = awscalls.AwsSettings(region="us-east-1", max_lag_seconds=max_lag_seconds, endpoint_url=url)
    return awscalls.AwsClients(
        settings,
        session_factory=lambda: boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
        ),
    )


def publish_lag(cloudwatch: Any, metric: str, lags: dict[str, float]) -> None:
    """Publish replica lag the way RDS does (AWS/RDS, per DBInstanceIdentifier): moto's RDS publishes
    no metrics of its own, so a test plays that part through CloudWatch's real PutMetricData."""
    if lags:
        cloudwatch.put_metric_data(
            Namespace="AWS/RDS",
            MetricData=[
                {
                    "MetricName": metric,
                    "Dimensions": [{"Name": "DBInstanceIdentifier", "Value": instance}],
                    "Value": value,
                    "Unit": "Milliseconds" if metric == "AuroraReplicaLag" else "Seconds",
                }
                for instance, value in lags.items()
            ],
        )


class FaultyEndpoint:
    """A real HTTP proxy on 127.0.0.1 in front of moto_server that can answer every AWS call with an
    error instead (`fail_with("ExpiredToken", 403)`, `fail_with("Throttling", 400)`, `heal()`), the
    way AWS answers in the Query protocol RDS speaks. moto checks no credentials and never throttles:
    this is how a test shows the operator an expired token or a throttled API. Runs in the test's loop.
    """

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.fault: tuple[str, int] | None = None
        self.failed = 0  # calls answered with the fault
        self.calls: list[tuple[str, dict[str, str]]] = []  # (Action, its parameters) of every call seen
        self.url = ""
        self._runner: Any = None
        self._session: Any = None

    def fail_with(self, code: str, status: int) -> None:
        self.fault = (code, status)

    def heal(self) -> None:
        self.fault = None

    async def __aenter__(self) -> FaultyEndpoint:
        import aiohttp
        from aiohttp import web

        self._session = aiohttp.ClientSession(auto_decompress=False)
        app = web.Application(client_max_size=16 * 2**20)
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self._runner, self.url = await serve(app)
        return self

    async def __aexit__(self, *_: object) -> None:
        await self._runner.cleanup()
        await self._session.close()

    async def _forward(self, request: Any) -> Any:
        from aiohttp import web

        body = await request.read()
        self.calls.append(_action(request, body))
        if self.fault is not None:
            self.failed += 1
            code, status = self.fault
            error = (
                '<ErrorResponse xmlns="http://rds.amazonaws.com/doc/2014-10-31/"><Error><Type>Sender</Type>'
                f"<Code>{code}</Code><Message>injected by the test: {code}</Message></Error>"
                "<RequestId>00000000-test</RequestId></ErrorResponse>"
            )
            return web.Response(status=status, text=error, content_type="text/xml")
        headers = {k: v for k, v in request.headers.items() if k.lower() not in ("host", "content-length")}
        async with self._session.request(
            request.method, f"{self.upstream}{request.path_qs}", headers=headers, data=body
        ) as answer:
            payload = await answer.read()
            keep = {
                k: v
                for k, v in answer.headers.items()
                if k.lower() not in ("content-length", "transfer-encoding", "connection", "content-encoding")
            }
            return web.Response(status=answer.status, body=payload, headers=keep)


def _action(request: Any, body: bytes) -> tuple[str, dict[str, str]]:
    """(Action, parameters) of a Query-protocol call (RDS); the operation's name from the path or the
    X-Amz-Target header for the JSON and CBOR protocols (CloudWatch), with no parameters."""
    from urllib.parse import parse_qsl

    if request.content_type == "application/x-www-form-urlencoded":
        params = dict(parse_qsl(body.decode()))
        return params.pop("Action", ""), params
    target = request.headers.get("X-Amz-Target", "")
    return (target.rpartition(".")[2] or request.path.rpartition("/")[2]), {}
