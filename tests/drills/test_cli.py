"""`scaleplane drill list | plan | run` without --execute: every step printed, nothing touched; bad
input is one error line and exit 2."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import scaleplane.cli
from scaleplane.cli import app as cli_app


def drill(*args: str) -> tuple[int, str, str]:
    for name in scaleplane.cli.COMMAND_MODULES:
        importlib.import_module(f"scaleplane.cli.{name}")
    result = CliRunner().invoke(cli_app.app, ["drill", *args])
    return result.exit_code, result.stdout, result.stderr


def test_list_names_every_scenario_with_objectives_and_targets() -> None:
    code, out, _ = drill("list", "--json")
    assert code == 0
    rows = {row["scenario"]: row for row in json.loads(out)["scenarios"]}
    assert rows["db-primary-loss"]["targets"] == ["local", "kubernetes", "aws"]
    assert rows["cache-primary-loss"]["targets"] == ["local", "aws"]  # no Sentinel in the stack's Redis chart
    assert rows["db-replica-loss"]["targets"] == ["local", "kubernetes"]
    assert rows["restore-to-point-in-time"]["targets"] == ["local", "kubernetes", "aws"]
    assert rows["db-primary-loss"]["objectives"] == {"rto_seconds": 30, "rpo_seconds": 0, "rpo_commits": 0}
    assert "db-replica-loss" in rows


@pytest.mark.parametrize("command", [["plan"], ["run"]])
def test_plan_and_run_without_execute_print_every_step_and_touch_nothing(
    command: list[str], tmp_path: Path
) -> None:
    state = tmp_path / "state"
    code, out, _ = drill(*command, "db-primary-loss", "--target", "local", "--json",
                         *(["--state-dir", str(state)] if command == ["run"] else []))  # fmt: skip
    assert code == 0
    data = json.loads(out)
    assert (data["scenario"], data["target"], data["executed"], data["verdict"]) == (
        "db-primary-loss", "local", False, None,
    )  # fmt: skip
    assert {"rto_seconds", "rpo_commits_lost", "rpo_seconds", "objectives"} <= set(data)
    ids = [s["id"] for s in data["steps"]]
    assert ids[:3] == ["start-cluster", "start-probes", "kill-primary"] and ids[-1] == "stop-cluster"
    assert all(s["skipped"] and s["timeout_seconds"] > 0 and s["expect"] for s in data["steps"])
    assert not state.exists()


def test_plan_prints_commands_for_the_operator() -> None:
    code, out, _ = drill("plan", "db-primary-loss")
    assert code == 0
    assert "patronictl -c .scaleplane/drills/local/servers/pg1/patroni.yml list" in out
    assert "nothing was touched" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["plan", "no-such-drill"],
            "error: scenario: unknown scenario 'no-such-drill' (known: db-primary-loss",
        ),
        (
            ["plan", "db-primary-loss", "--target", "mars"],
            "error: --target: no drill backend for target 'mars'",
        ),
        (["run", "db-primary-loss", "--replication", "maybe"], "error: --replication: must be sync or async"),
    ],
)
def test_bad_input_is_one_error_line_and_exit_2(args: list[str], message: str) -> None:
    code, _, err = drill(*args)
    assert code == 2
    assert err.startswith(message) and len(err.strip().splitlines()) == 1


def test_recover_with_nothing_left_says_so(tmp_path: Path) -> None:
    code, out, _ = drill("recover", "--state-dir", str(tmp_path))
    assert code == 0 and "nothing left to clean up" in out
