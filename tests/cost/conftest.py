"""Cost Explorer on the session's real moto_server (`moto_url` in tests/conftest.py: reset per test)."""

from __future__ import annotations

import pytest


@pytest.fixture
def ce_url(moto_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL_CE", raising=False)
    return moto_url
