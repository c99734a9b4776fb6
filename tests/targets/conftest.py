"""A real moto_server (the AWS API emulator) for the RDS target's tests: one per module, reset per test."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import requests

from tests.support import moto


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    with moto.running_server() as url:
        yield url


@pytest.fixture
def rds_client(moto_url: str) -> Any:
    requests.post(f"{moto_url}/moto-api/reset", timeout=5).raise_for_status()
    return boto3.client(
        "rds",
        endpoint_url=moto_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
