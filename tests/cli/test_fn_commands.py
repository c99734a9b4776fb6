"""`scaleplane fn new | test` (no platform needed) and the errors of the others without one."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from scaleplane.cli import app as cli_app
from scaleplane.cli import functions as _commands  # noqa: F401  (registers `fn`)


def fn(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli_app.app, ["fn", *args])
    return result.exit_code, result.output


def test_new_writes_a_template_whose_mock_cases_pass(tmp_path: Path) -> None:
    code, output = fn("new", "greet", "--namespace", "demo", "--dir", str(tmp_path))
    assert code == 0, output
    assert sorted(p.name for p in (tmp_path / "greet").iterdir()) == [
        "function.yaml",
        "handler.py",
        "mock.json",
    ]
    code, output = fn("test", str(tmp_path / "greet"))
    assert (code, output.splitlines()[-1]) == (0, "4 passed, 0 failed")
    code, output = fn("test", str(tmp_path / "greet"), "--params", '{"name": "Bo", "excited": "yes"}')
    assert code == 0 and '{"greeting": "hello Bo!"}' in output


def test_a_failing_case_says_what_it_expected_and_exits_1(tmp_path: Path) -> None:
    fn("new", "greet", "--dir", str(tmp_path))
    mock = tmp_path / "wrong.json"
    mock.write_text(json.dumps([{"params": {"name": "Ada"}, "expect": {"greeting": "bye"}}]))
    code, output = fn("test", str(tmp_path / "greet"), "--mock", str(mock))
    assert code == 1
    assert (
        'FAIL case 1: {\'name\': \'Ada\'} -> {"greeting": "hello Ada"} (expected {"greeting": "bye"})'
        in output
    )


def test_bad_input_is_one_error_line_with_exit_2(tmp_path: Path) -> None:
    fn("new", "greet", "--dir", str(tmp_path))
    (tmp_path / "greet" / "function.yaml").write_text(
        "apiVersion: scaleplane.io/v1alpha1\nkind: Function\nmetadata: {name: greet, namespace: demo}\n"
        "spec: {handler: handler.py:main, maxReplicas: 0}\n"
    )
    cases = [
        (("new", "Bad_Name"), "error: name must be a DNS label (a-z, 0-9, -), was 'Bad_Name'"),
        (("new", "greet", "--dir", str(tmp_path)), "already exists"),
        (("test", str(tmp_path / "nowhere")), "no such file"),
        (
            ("test", str(tmp_path / "greet")),
            "function.yaml: spec.maxReplicas: Input should be greater than or equal to 1, was 0",
        ),
        (("call", "demo", "--state-dir", str(tmp_path / "state")), "no local platform runs from"),
    ]
    for args, message in cases:
        code, output = fn(*args)
        assert code in (1, 2) and message in output, (args, output)
        assert "Traceback" not in output
