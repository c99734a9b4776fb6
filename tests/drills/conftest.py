"""Fixtures of the drill tests: the session's moto_server (tests/conftest.py) with fake credentials in
the environment, and a drill clock on virtual time."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest


@dataclass
class FastClock:
    """Virtual time: sleeping advances it at once (moto answers at once; nothing to wait for really).
    `t` starts where the test says: a point-in-time restore needs a real date."""

    t: float = 0.0

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.t += seconds


@pytest.fixture
def moto_url(moto_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The session's moto_server (tests/conftest.py), reset, with fake credentials in the environment."""
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}.items():
        monkeypatch.setenv(key, value)
    return moto_url


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
