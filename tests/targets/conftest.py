"""A real moto_server (the AWS API emulator) for the RDS and Aurora targets' tests: one per module,
reset per test, reached through the operator's own AwsClients."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.support import moto


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    with moto.running_server() as url:
        yield url


@pytest.fixture
def aws(moto_url: str) -> Any:
    requests.post(f"{moto_url}/moto-api/reset", timeout=5).raise_for_status()
    return moto.aws_clients(moto_url)


@pytest.fixture
def rds_client(aws: Any) -> Any:
    return aws.client("rds")
