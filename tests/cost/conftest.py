"""A real moto_server (the AWS API emulator) for Cost Explorer: one per module, reset per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from tests.support import moto


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    with moto.running_server() as url:
        yield url


@pytest.fixture
def ce_url(moto_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    requests.post(f"{moto_url}/moto-api/reset", timeout=5).raise_for_status()
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL_CE", raising=False)
    return moto_url
