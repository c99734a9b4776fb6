"""Issue 8's CLI examples: each is `error: ...` naming the input, exit 2, and no traceback."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from typer.testing import CliRunner

import scaleplane.cli
from scaleplane.cli import app as cli_app

REPO = Path(__file__).resolve().parents[2]
TRACE = str(REPO / "traces" / "synthetic-noisy.csv")


def run(*args: str) -> tuple[int, str, str]:
    for name in scaleplane.cli.COMMAND_MODULES:
        importlib.import_module(f"scaleplane.cli.{name}")
    result = CliRunner().invoke(cli_app.app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.stdout + result.stderr
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def a_file(tmp_path: Path) -> Path:
    path = tmp_path / "a-file"
    path.write_text("x\n")
    return path


def test_an_infinite_capacity_is_refused() -> None:
    code, _, err = run("simulate", "--trace", TRACE, "--capacity", "inf")
    assert code == 2 and "error: --capacity: must be a finite number >= 1e-06, was inf" in err


def test_a_long_tick_does_not_blame_an_option_never_set() -> None:
    code, out, err = run("simulate", "--trace", TRACE, "--tick", "3600", "--json")
    assert code == 0 and "--rate-window" not in err, err
    assert '"rate_window_seconds": 3600.0' in out  # the default followed the tick


def test_a_state_directory_that_is_a_file(a_file: Path) -> None:
    for command in (["local", "status"], ["local", "down"], ["local", "doctor"]):
        code, _, err = run(*command, "--state-dir", str(a_file))
        assert code == 2 and "is a file" in err, (command, err)


def test_a_report_folder_that_is_a_file(a_file: Path) -> None:
    code, _, err = run("simulate", "--trace", TRACE, "--report", str(a_file))
    assert code == 2 and "is a file" in err


def test_crds_check_on_a_missing_folder_says_it_is_missing(tmp_path: Path) -> None:
    code, _, err = run("operator", "crds", "--check", str(tmp_path / "nothing"))
    assert code == 2 and "no such folder" in err and "differ" not in err


def test_a_policy_config_of_the_wrong_type_is_an_error_not_a_finding(tmp_path: Path) -> None:
    config = tmp_path / "policy-config.json"
    config.write_text('{"rds-backup-retention": {"minDays": "14"}}')
    code, _, err = run("check", "--stack", "aws-dev", "--policy-config", str(config))
    assert code == 2 and "rds-backup-retention.minDays: '14' is not of type 'integer'" in err


def test_a_binary_stack_config_is_named_not_the_program(tmp_path: Path) -> None:
    stack = tmp_path / "binary.yaml"
    stack.write_bytes(b"\x00\x01\xff\xfe" * 10)
    code, _, err = run("plan", "--stack", "aws-dev", "--config-file", str(stack))
    assert code == 2 and "not a text file" in err and "Pulumi program" not in err


def test_an_unknown_promql_range_is_refused_by_name(tmp_path: Path) -> None:
    policy = tmp_path / "p.yaml"
    policy.write_text(
        "targetRef: {name: a}\nmaxReplicas: 5\n"
        "metrics: [{name: rps, query: 'sum(rate(x[$__rate_interval]))', target: {value: 1}}]\n"
    )
    code, _, err = run("simulate", "--trace", TRACE, "--policy", str(policy))
    assert code == 2 and "range [$__rate_interval]" in err and "not a PromQL duration" in err


def test_an_unexpected_exception_is_one_line_naming_a_bug(monkeypatch: pytest.MonkeyPatch) -> None:
    from scaleplane.scaling.simulating import traces

    def broken(*args: object, **kwargs: object) -> None:
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(traces, "parse_trace", broken)
    code, _, err = run("simulate", "--trace", TRACE)
    assert code == 2
    assert err.startswith("error: internal error: ZeroDivisionError: boom") and "SCALEPLANE_DEBUG=1" in err


def test_version() -> None:
    code, out, _ = run("--version")
    assert code == 0 and out.startswith("scaleplane ")


def test_operator_run_without_a_cluster_says_so_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-kubeconfig"))
    monkeypatch.delenv("SCALEPLANE_KUBE_SERVER", raising=False)
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    code, _, err = run("operator", "run", "--namespace", "default")
    assert code == 2 and err.startswith("error: no Kubernetes credentials") and "KUBECONFIG" in err
    assert len(err.strip().splitlines()) == 1


def test_a_group_alone_shows_its_help_and_a_typo_is_one_line() -> None:
    code, out, err = run("local")
    assert code == 2 and "error:" not in err and "Usage: scaleplane local" in out + err
    code, _, err = run("simulate", "--bogus")
    assert code == 2 and err.startswith("error: No such option: --bogus")
    assert err.rstrip().endswith("(see `scaleplane simulate --help`)") and len(err.strip().splitlines()) == 1


# Found by the fuzz test: inputs that overflowed or would have allocated gigabytes.
def test_a_tiny_capacity_is_refused_not_overflowed() -> None:
    code, _, err = run("simulate", "--trace", TRACE, "--capacity", "1e-308")
    assert code == 2 and "--capacity: must be a finite number >= 1e-06, was 1e-308" in err


def test_one_far_timestamp_in_a_request_log_is_named_not_allocated(tmp_path: Path) -> None:
    log = tmp_path / "requests.csv"
    log.write_text("TIMESTAMP\n2024-05-10T12:00:00Z\n0\n2024-05-10T12:00:10Z\n")
    code, _, err = run("simulate", "--trace", str(log))
    assert (
        code == 2 and "the requests span 19,854 days (line 3 to line 4)" in err and "timestamp wrong" in err
    )


def test_a_series_in_milliseconds_is_named_not_allocated(tmp_path: Path) -> None:
    series = tmp_path / "series.csv"
    series.write_text("t,demand\n0,1\n60000000,2\n120000000,3\n")
    code, _, err = run("simulate", "--trace", str(series))
    assert code == 2 and "is column 't' in seconds?" in err
