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

from tests.support.operating import free_port


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
