"""The RDS and Aurora targets' tests talk to the session's real moto_server (`moto_url` in
tests/conftest.py: reset per test) through the operator's own AwsClients."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support import moto


@pytest.fixture
def aws(moto_url: str) -> Any:
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
