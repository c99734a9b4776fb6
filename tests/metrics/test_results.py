"""metrics.results: every shape Prometheus can answer, table-driven."""

from __future__ import annotations

import pytest

from scaleplane.metrics import results


def vector(*values: str, labels: bool = True) -> list[dict]:
    return [{"metric": {"queue": f"q{i}"} if labels else {}, "value": [1.0, v]} for i, v in enumerate(values)]


@pytest.mark.parametrize(
    ("result", "value", "error"),
    [
        (vector("3.5"), 3.5, None),
        ([1700000000.0, "42"], 42.0, None),  # scalar
        (vector("NaN"), None, "the query returned NaN (not a finite number)"),
        (vector("+Inf"), None, "the query returned +Inf (not a finite number)"),
        ([1.0, "-Inf"], None, "the query returned -Inf (not a finite number)"),
        ([], None, "no data: the query matched no series (add `or vector(0)` if none means 0)"),
        (
            vector("1", "2"),
            None,
            '2 series where one is expected ({queue="q0"}, {queue="q1"}); aggregate them, e.g. sum(...)',
        ),
        (
            vector("1", "2", "3", "4", "5"),
            None,
            '5 series where one is expected ({queue="q0"}, {queue="q1"}, {queue="q2"}, ...); '
            "aggregate them, e.g. sum(...)",
        ),
        (
            [{"metric": {}, "values": [[1.0, "1"]]}],
            None,
            "the query returns a range vector; wrap it, e.g. rate(x[1m])",
        ),
        ([1.0, "hello"], None, "not a number: 'hello'"),
        ({"oops": 1}, None, "malformed result: {'oops': 1}"),
        ([{"metric": {}}], None, "malformed vector sample: {'metric': {}}"),
        ([{"metric": {}, "value": [1.0]}], None, "malformed sample: [1.0]"),
    ],
)
def test_interpret(result, value, error):
    answer = results.interpret(result)
    assert (answer.value, answer.error) == (value, error)


def test_empty_can_mean_zero_when_asked():
    assert results.interpret([], empty_as_zero=True).value == 0.0
    assert results.interpret(vector("NaN"), empty_as_zero=True).error is not None
