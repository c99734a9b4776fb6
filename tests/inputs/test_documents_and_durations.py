"""YAML with lines, and PromQL durations understood or refused by name."""

from __future__ import annotations

import pytest

from scaleplane.inputs import documents, durations


def test_a_field_is_found_on_its_line() -> None:
    text = "apiVersion: v1\nspec:\n  metrics:\n    - name: a\n      target: {value: x}\n---\nkind: B\n"
    first, second = documents.load(text, "f.yaml")
    assert first.line_of(("spec", "metrics", 0, "target", "value")) == 5
    assert first.line_of(("spec", "nothing", "here")) == 2  # the deepest field that exists
    assert (second.index, second.data) == (2, {"kind": "B"})


def test_exponents_are_numbers_as_in_yaml_1_2() -> None:
    (document,) = documents.load("value: 1e3\nname: 1e3x\n", "f.yaml")
    assert document.data == {"value": 1000.0, "name": "1e3x"}


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("a: [1\n", "f.yaml:2: not valid YAML"),
        ("\x00\x01\x02", "f.yaml: not a text file"),
        ("a: *x\n", "f.yaml:1"),
    ],
)
def test_broken_text_names_the_file_and_the_line(text: str, problem: str) -> None:
    with pytest.raises(documents.DocumentError, match=problem):
        documents.load(text, "f.yaml")


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("30s", 30),
        ("5m", 300),
        ("1h30m", 5400),
        ("500ms", 0.5),
        ("2d", 172800),
        ("1w", 604800),
        ("1y", 31536000),
    ],
)
def test_promql_durations(text: str, seconds: float) -> None:
    assert durations.seconds(text) == seconds


@pytest.mark.parametrize("text", ["", "5", "5 m", "m5", "30m1h", "1.5m", "$__rate_interval", "5M"])
def test_what_promql_would_not_parse_is_refused_by_name(text: str) -> None:
    with pytest.raises(durations.DurationError, match="not a PromQL duration"):
        durations.seconds(text)


@pytest.mark.parametrize(
    ("query", "window"),
    [
        ("sum(rate(x[2m]))", 120),
        ('rate(x{path=~"/a[0-9]"}[1h30m])', 5400),
        ("max_over_time(rate(x[1m])[30m:1m])", 60),
        ("avg_over_time(x[10m:])", 600),
        ("sum(queue)", None),
    ],
)
def test_the_first_range_of_a_query(query: str, window: float | None) -> None:
    assert durations.first_range(query) == window


def test_a_grafana_variable_is_not_a_window() -> None:
    with pytest.raises(durations.DurationError, match=r"range \[\$__rate_interval\]"):
        durations.first_range("rate(x[$__rate_interval])")
