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
def rds_client(aws: Any, moto_url: str) -> Any:
    """The test's own client, for set-up and checks: boto3's default timeouts and retries, not the
    operator's short ones (a create moto answers slowly on a loaded machine must not be re-sent)."""
    import boto3

    return boto3.client(
        "rds",
        endpoint_url=moto_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
