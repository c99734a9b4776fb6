"""The operators' environment layers end in any order without leaking a value into later tests."""

from __future__ import annotations

import os

import pytest

from tests.support import environment

KEY = "SCALEPLANE_TEST_LAYER"


def test_layers_that_end_first_in_first_out_leave_the_environment_as_it_was() -> None:
    os.environ.pop(KEY, None)
    first, second = environment.layered({KEY: "one"}), environment.layered({KEY: "two"})
    first.__enter__()
    second.__enter__()
    assert os.environ[KEY] == "two"
    first.__exit__(None, None, None)  # the first runner (a killed leader) ends first
    assert os.environ[KEY] == "two", "the runner still running keeps its value"
    second.__exit__(None, None, None)
    assert KEY not in os.environ


def test_a_value_the_process_had_comes_back(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY, "mine")
    with environment.layered({KEY: "one"}):
        with environment.layered({KEY: "two", "SCALEPLANE_TEST_OTHER": "x"}):
            assert os.environ[KEY] == "two"
        assert os.environ[KEY] == "one" and "SCALEPLANE_TEST_OTHER" not in os.environ
    assert os.environ[KEY] == "mine"
