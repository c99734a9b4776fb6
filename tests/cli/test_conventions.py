"""The conventions of the ecosystem: validate, check --format, plan's summary, 80 columns, --timeline."""

from __future__ import annotations

import csv
import importlib
import io
import json
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

import scaleplane.cli
from scaleplane.cli import app as cli_app
from tests.support import planned_stacks

REPO = Path(__file__).resolve().parents[2]
INSECURE = REPO / "tests" / "guardrails" / "fixtures" / "Pulumi.aws-insecure.yaml"


def run(*args: str) -> tuple[int, str, str]:
    for name in scaleplane.cli.COMMAND_MODULES:
        importlib.import_module(f"scaleplane.cli.{name}")
    result = CliRunner().invoke(cli_app.app, list(args))
    assert "Traceback" not in result.stdout + result.stderr
    return result.exit_code, result.stdout, result.stderr


def test_validate_passes_every_shipped_policy() -> None:
    folders = (REPO / "examples", REPO / "src/scaleplane/local/policies")
    code, out, _ = run("validate", *map(str, folders))
    assert code == 0, out
    shipped = [path for folder in folders for path in folder.glob("*.yaml")]  # one document each
    assert out.count("\nok ") + out.startswith("ok ") == len(shipped) >= 10
    assert "policies/functions.yaml: Function demo/thumbnail" in out  # the demo's function, checked too


def test_validate_checks_function_documents_by_field(tmp_path: Path) -> None:
    bad = tmp_path / "functions.yaml"
    text = (REPO / "src/scaleplane/local/policies/functions.yaml").read_text()
    bad.write_text(text.replace("maxReplicas: 4", "maxReplicas: 0"))
    code, out, err = run("validate", str(bad))
    assert code == 1
    assert f"invalid {bad}: functions.yaml#1: spec.maxReplicas:" in out and "was 0" in out
    assert "0 valid, 1 invalid" in err


def test_validate_names_file_line_and_field_and_exits_1(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        (REPO / "examples" / "forecast.yaml").read_text().replace("maxReplicas: 100", 'maxReplicas: "40"')
    )
    code, out, err = run("validate", str(bad), str(REPO / "examples" / "read-replicas.yaml"))
    assert code == 1
    assert f"invalid {bad}:" in out and "spec.maxReplicas: must be an integer, was '40'" in out
    assert "ok " in out and "1 valid, 1 invalid" in err


def test_validate_of_a_missing_file_is_an_error(tmp_path: Path) -> None:
    code, _, err = run("validate", str(tmp_path / "nothing.yaml"))
    assert code == 2 and "does not exist" in err


def test_the_crd_schema_half_refuses_what_the_api_server_would() -> None:
    from scaleplane.cli import validating

    schema = validating._crd_spec_schema()
    spec = {
        "targetRef": {"name": "a"},
        "maxReplicas": 0,
        "metrics": [{"name": "m", "query": "q", "target": {"value": 1}}],
    }
    errors = list(jsonschema.Draft4Validator(schema).iter_errors(spec))
    assert [list(error.absolute_path) for error in errors] == [["maxReplicas"]]
    spec["maxReplicas"] = 3
    assert not list(jsonschema.Draft4Validator(schema).iter_errors(spec))


@pytest.fixture(scope="module")
def insecure_formats() -> dict[str, tuple[int, str]]:
    found = {}
    for output in ("text", "json", "sarif", "junit"):
        code, out, _ = run("check", "--stack", "aws-dev", "--config-file", str(INSECURE), "--format", output)
        found[output] = (code, out)
    return found


def test_check_formats_agree_and_exit_1_on_mandatory_violations(
    insecure_formats: dict[str, tuple[int, str]],
) -> None:
    assert {code for code, _ in insecure_formats.values()} == {1}
    report = json.loads(insecure_formats["json"][1])
    mandatory = [v for v in report["violations"] if v["enforcement"] == "mandatory"]
    assert report["mandatory"] == len(mandatory) > 0 and report["passed"] is False
    sarif = json.loads(insecure_formats["sarif"][1])
    assert sarif["version"] == "2.1.0"
    run_ = sarif["runs"][0]
    rule_ids = [rule["id"] for rule in run_["tool"]["driver"]["rules"]]
    assert [r["ruleId"] for r in run_["results"]] == [v["rule"] for v in report["violations"]]
    assert all(rule_ids[r["ruleIndex"]] == r["ruleId"] and r["message"]["text"] for r in run_["results"])
    assert sum(r["level"] == "error" for r in run_["results"]) == len(mandatory)
    suite = ET.fromstring(insecure_formats["junit"][1].split("?>", 1)[1]).find("testsuite")
    assert suite is not None and int(suite.get("failures", "-1")) == len(mandatory)
    assert len(suite.findall("testcase/failure")) == len(mandatory)
    for violation in mandatory:
        assert violation["rule"] in insecure_formats["text"][1]


def test_plan_ends_with_a_summary_by_type_like_pulumi_preview() -> None:
    code, out, _ = run("plan", "--stack", "aws-prod")
    assert code == 0
    summary = out[out.index("Resources:") :].splitlines()
    assert summary[1].strip() == "+102 to create"
    counts = [int(line.split()[0]) for line in summary[2:]]
    assert sum(counts) == 102 and counts == sorted(counts, reverse=True)
    assert any(line.split()[1:] == ["aws:ec2/subnet:Subnet"] and line.split()[0] == "6" for line in summary)


def test_plan_fits_80_columns_and_never_cuts_a_value() -> None:
    from scaleplane.cli.plan import previews

    plan = planned_stacks.planned("aws-prod")
    lines = previews.plan_lines(plan, 80)
    # Only a single value longer than the line may stick out (it is never split).
    wide = [line for line in lines if len(line) > 80 and len(line.strip().removeprefix("+ ").split()) > 1]
    assert not wide, wide
    text = " ".join(line.strip() for line in lines)
    for resource in plan.resources:  # every value of the key inputs is there, whole
        assert resource.name in text
    assert '"10.0.0.0/20"' in text and "backupRetentionPeriod=14" in text


def test_simulate_summary_fits_80_columns_or_lists_the_values(tmp_path: Path) -> None:
    from scaleplane.cli.simulate import outputs
    from scaleplane.reporting import simulations
    from scaleplane.scaling.simulating import presets, simulation, traces

    with (REPO / "traces" / "synthetic-noisy.csv").open() as lines:
        demand = traces.resample(traces.parse_trace(lines, source="t"), 15)
    model = simulation.TargetModel()
    outcomes = [simulation.simulate(presets.recommended(model), demand, model=model, name="recommended")]
    result = {"trace": "traces/synthetic-noisy.csv", "ticks": len(demand), "tick_seconds": 15.0}
    cells = [str(cell) for cell in simulations.summary_rows(outcomes)[0]]
    for width in (80, 40):
        lines = outputs.summary_lines(result, outcomes, width)
        assert all(len(line) <= width for line in lines[1:]), lines
        joined = "\n".join(lines)
        assert all(cell in joined for cell in cells)
    assert any(line.startswith("run ") for line in outputs.summary_lines(result, outcomes, 80))


def test_timeline_holds_the_series_behind_the_numbers(tmp_path: Path) -> None:
    timeline = tmp_path / "timeline.csv"
    code, out, err = run(
        "simulate", "--trace", str(REPO / "traces" / "synthetic-noisy.csv"), "--baseline", "hpa", "--json",
        "--timeline", str(timeline),
    )  # fmt: skip
    assert code == 0, err
    result = json.loads(out)
    rows = list(csv.DictReader(timeline.open()))
    assert len(rows) == 2 * result["ticks"]
    for name, summary in (("recommended", result), (result["baseline"]["name"], result["baseline"])):
        replicas = [int(row["replicas"]) for row in rows if row["run"] == name]
        assert sum(replicas) * result["tick_seconds"] / 3600 == pytest.approx(
            summary["replica_hours"], abs=1e-3
        )
        assert max(replicas) == summary["peak_replicas"]


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_spinner_on_a_terminal_and_nothing_in_a_pipe(monkeypatch: pytest.MonkeyPatch) -> None:
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    monkeypatch.setenv("TERM", "xterm")
    with cli_app.spinner("planning aws-prod"):
        time.sleep(0.3)
    assert "planning aws-prod" in terminal.getvalue()
    pipe = io.StringIO()
    monkeypatch.setattr(sys, "stderr", pipe)
    with cli_app.spinner("planning aws-prod"):
        pass
    assert pipe.getvalue() == ""


def test_every_help_renders_as_flowing_paragraphs() -> None:
    """Hard-wrapped docstrings must not reach the terminal as lines broken mid-sentence."""
    import itertools

    import typer

    for name in scaleplane.cli.COMMAND_MODULES:
        importlib.import_module(f"scaleplane.cli.{name}")
    pending: list[tuple[str, object]] = [("scaleplane", typer.main.get_command(cli_app.app))]
    while pending:
        path, command = pending.pop()
        for paragraph in (getattr(command, "help", None) or "").split("\n\n"):
            assert "\n" not in paragraph, f"{path}: {paragraph!r}"
        pending += [(f"{path} {n}", c) for n, c in getattr(command, "commands", {}).items()]
    # Rendered at 100 columns, a line of a paragraph ends only where its next word would not fit.
    result = CliRunner().invoke(cli_app.app, ["simulate", "--help"], env={"COLUMNS": "100"})
    prose = result.stdout.split("╭")[0].splitlines()
    for line, after in itertools.pairwise(prose):
        if line.strip() and after.strip() and not after.strip().startswith("Usage:"):
            assert len(line.strip()) + 1 + len(after.split()[0]) > 90, (line, after)
    assert cli_app.flowing("One\nparagraph.\n\n\bkept\nas is") == "One paragraph.\n\n\bkept\nas is"
