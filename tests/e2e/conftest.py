"""Fixtures the operator e2e tests share."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support import operating


@pytest.fixture
def exporter(prometheus: Any, request: pytest.FixtureRequest) -> Iterator[tuple[operating.Exporter, str]]:
    """A `load` gauge exporter scraped by the session Prometheus under a job named after the test."""
    job = operating.job_name(request)
    with operating.scraped_exporter(prometheus, job) as exp:
        yield exp, job
