"""Option values the fuzz test found crashing: now one `error:` line naming the option, exit 2."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from typer.testing import CliRunner

import scaleplane.cli
from scaleplane.cli import app as cli_app

PROMETHEUS = "http://127.0.0.1:9"  # never reached: every case fails before any request


def run(*args: str) -> tuple[int, str]:
    for name in scaleplane.cli.COMMAND_MODULES:
        importlib.import_module(f"scaleplane.cli.{name}")
    result = CliRunner().invoke(cli_app.app, list(args))
    assert "Traceback" not in result.stdout + result.stderr
    assert "internal error" not in result.stderr, result.stderr
    return result.exit_code, result.stderr


def assert_names(code: int, err: str, option: str) -> None:
    assert code == 2, err
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert lines and option in lines[0], err


@pytest.fixture
def binary(tmp_path: Path) -> Path:
    path = tmp_path / "noise.csv"
    path.write_bytes(bytes([0xFF, 0xFE, 0x00, 0x9C, 0x81]) * 20)
    return path


@pytest.mark.parametrize("command", [["cost", "actual"], ["cost", "prices", "refresh"]])
@pytest.mark.parametrize("url", ["", "x", "ftp://host/", "http://"])
def test_endpoint_url_must_be_http_with_a_host(command: list[str], url: str) -> None:
    code, err = run(*command, "--endpoint-url", url)
    assert_names(code, err, "--endpoint-url")


@pytest.mark.parametrize("value", ["0.0", "-1", "inf", "nan"])
def test_prices_refresh_timeout_must_be_finite_and_positive(value: str) -> None:
    assert_names(*run("cost", "prices", "refresh", "--timeout", value), "--timeout")


@pytest.mark.parametrize("value", ["inf", "nan", "0", "-inf"])
def test_cost_report_timeout_must_be_finite_and_positive(value: str) -> None:
    assert_names(*run("cost", "report", "--prometheus", PROMETHEUS, "--timeout", value), "--timeout")


def test_cost_report_prometheus_must_be_a_url() -> None:
    assert_names(*run("cost", "report", "--prometheus", ""), "--prometheus")


def test_cost_report_prices_not_text(binary: Path) -> None:
    assert_names(*run("cost", "report", "--prometheus", PROMETHEUS, "--prices", str(binary)), "--prices")


@pytest.mark.parametrize(
    "text",
    [
        "kind: ScalingPolicy\nmetadata: just-a-string\nspec: {}\n",
        "kind: ScalingPolicy\nmetadata:\n  name: a\n  annotations: [1, 2]\nspec: {}\n",
    ],
)
def test_cost_report_policies_of_the_wrong_shape(tmp_path: Path, text: str) -> None:
    policies = tmp_path / "policy.yaml"
    policies.write_text(text)
    code, err = run("cost", "report", "--prometheus", PROMETHEUS, "--policies", str(policies))
    assert_names(code, err, "--policies")


def test_cost_report_policies_not_text(binary: Path) -> None:
    code, err = run("cost", "report", "--prometheus", PROMETHEUS, "--policies", str(binary))
    assert_names(code, err, "--policies")


@pytest.mark.parametrize("extra", [[], ["--note", ""], ["--state-dir", "SELF"]])
def test_fn_deploy_of_a_binary_file(binary: Path, extra: list[str]) -> None:
    extra = [str(binary) if value == "SELF" else value for value in extra]
    code, err = run("fn", "deploy", str(binary), *extra)
    assert_names(code, err, str(binary))
    assert "not a text file" in err


@pytest.mark.parametrize("extra", [[], ["--params", ""]])
def test_fn_test_of_a_binary_file(binary: Path, extra: list[str]) -> None:
    code, err = run("fn", "test", str(binary), *extra)
    assert_names(code, err, str(binary))
    assert "not a text file" in err


@pytest.mark.parametrize("value", ["", "[1]", "nope"])
def test_fn_test_params_must_be_a_json_object(tmp_path: Path, value: str) -> None:
    assert run("fn", "new", "hello", "--dir", str(tmp_path))[0] == 0
    assert_names(*run("fn", "test", str(tmp_path / "hello"), "--params", value), "--params")


@pytest.mark.parametrize(
    ("option", "value"), [("--minutes", "inf"), ("--minutes", "1e308"), ("--step", "inf")]
)
def test_observability_render_minutes_and_step_must_be_finite(
    tmp_path: Path, option: str, value: str
) -> None:
    out = str(tmp_path / "out.png")
    code, err = run("observability", "render", "--prometheus", "", "--out", out, option, value)
    assert_names(code, err, option)


def test_observability_render_prometheus_must_be_a_url(tmp_path: Path) -> None:
    code, err = run("observability", "render", "--prometheus", "", "--out", str(tmp_path / "out.png"))
    assert_names(code, err, "--prometheus")


@pytest.mark.parametrize("text", ["just a string\n", "- a\n- b\n", "a,b,c\n1,2,3\n"])
@pytest.mark.parametrize("command", ["deploy", "test"])
def test_fn_of_a_file_that_is_not_a_mapping(tmp_path: Path, text: str, command: str) -> None:
    path = tmp_path / "trace.csv"
    path.write_text(text)
    code, err = run("fn", command, str(path))
    assert_names(code, err, str(path))
    assert "expected a Function" in err or "kind must be" in err


@pytest.mark.parametrize("option", ["--usage", "--prices", "--compare"])
def test_cost_estimate_of_a_binary_file(binary: Path, option: str) -> None:
    code, err = run("cost", "estimate", "--stack", "aws-dev", option, str(binary))
    assert_names(code, err, option)
    assert "not a text file" in err


@pytest.mark.parametrize("jobs", ["-1", "65", "2147483648"])
def test_frontier_jobs_are_bounded(jobs: str) -> None:
    """Found by the fuzz test in CI: an unbounded --jobs forked thousands of workers (each a whole copy
    of the process) until the machine ran out of memory."""
    trace = str(Path(__file__).resolve().parents[2] / "traces" / "synthetic-noisy.csv")
    code, err = run("simulate", "--trace", trace, "--frontier", "--jobs", jobs)
    assert_names(code, err, "--jobs")


@pytest.fixture
def two_contexts(tmp_path: Path) -> Path:
    from tests.support import operating

    return operating.write_kubeconfig(
        tmp_path / "clusters.yaml", "http://127.0.0.1:9", others={"staging": "http://127.0.0.1:9"}
    )


# Read by one function (cli.clusters) for both commands: the same mistake, the same line. Each case
# fails before kopf starts (no cluster is running, so getting further would not end by itself).
@pytest.mark.timeout(60)
@pytest.mark.parametrize("command", [["operator", "run", "--all-namespaces"], ["fn", "list"]])
def test_a_kubeconfig_or_context_that_names_nothing(
    command: list[str], two_contexts: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "nothing.yaml"
    code, err = run(*command, "--kubeconfig", str(missing))
    assert (code, err) == (2, f"error: --kubeconfig: {missing} does not exist\n")
    code, err = run(*command, "--kubeconfig", str(two_contexts), "--context", "prod")
    assert (code, err) == (
        2,
        f"error: --context prod: not a context of {two_contexts} (it has: kmock, staging)\n",
    )
    monkeypatch.setenv("KUBECONFIG", str(two_contexts))  # --context alone: a context of $KUBECONFIG's file
    code, err = run(*command, "--context", "prod")
    assert (code, err) == (
        2,
        f"error: --context prod: not a context of {two_contexts} (it has: kmock, staging)\n",
    )
