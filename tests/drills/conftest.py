"""Fixtures of the drill tests: one moto_server for every aws drill test of the session, its state reset
before each test, and a drill clock on virtual time."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from tests.support import moto


@dataclass
class FastClock:
    """Virtual time: sleeping advances it at once (moto answers at once; nothing to wait for really).
    `t` starts where the test says: a point-in-time restore needs a real date."""

    t: float = 0.0

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.t += seconds


@pytest.fixture(scope="session")
def moto_server_url() -> Iterator[str]:
    with moto.running_server(start_timeout=30) as url:
        yield url


@pytest.fixture
def moto_url(moto_server_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The shared moto_server, reset, with fake credentials in the environment."""
    requests.post(f"{moto_server_url}/moto-api/reset", timeout=5)
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}.items():
        monkeypatch.setenv(key, value)
    return moto_server_url


def put_stop_alarm(cloudwatch: Any, name: str) -> None:
    """The user's stop-condition alarm: the application's write errors (OK until a test sets it)."""
    cloudwatch.put_metric_alarm(
        AlarmName=name,
        Namespace="scaleplane/app",
        MetricName="write_errors",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=100,
        ComparisonOperator="GreaterThanThreshold",
    )
