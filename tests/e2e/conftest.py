"""Fixtures the e2e tests share: an exporter scraped by the session Prometheus, and a work folder for
a local platform."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from scaleplane.local import runfiles
from tests.support import operating


@pytest.fixture
def exporter(prometheus: Any, request: pytest.FixtureRequest) -> Iterator[tuple[operating.Exporter, str]]:
    """A `load` gauge exporter scraped by the session Prometheus under a job named after the test."""
    job = operating.job_name(request)
    with operating.scraped_exporter(prometheus, job) as exp:
        yield exp, job


@pytest.fixture
def workdir() -> Iterator[Path]:
    """A folder for a local platform's state (`workdir / "state"`), policies and reports, removed after.

    Not tmp_path: pytest's base folder is mode 0700, which the postgres user cannot traverse. Whatever a
    failed assertion left running under `state` is ended first, except a controller record that is
    this very process (a test that runs the platform in-process).
    """
    root = Path(tempfile.mkdtemp(prefix="scaleplane-e2e-"))
    root.chmod(0o755)
    try:
        yield root
    finally:
        runfiles.end_leftovers(root / "state", skip_pid=os.getpid())
        shutil.rmtree(root, ignore_errors=True)
