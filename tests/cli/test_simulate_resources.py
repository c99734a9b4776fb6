"""`scaleplane simulate` with a Utilization policy: it runs on a trace, and a --signal that tries to
rewire its Resource metric is one error line with exit 2."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

from typer.testing import CliRunner

import scaleplane.cli
from scaleplane.cli import app as cli_app

REPO = Path(__file__).resolve().parents[2]
POLICY = str(REPO / "examples" / "web-cpu-utilization.yaml")
TRACE = str(REPO / "traces" / "synthetic-ramp.csv")


def test_a_utilization_policy_simulates_against_the_hpa_and_refuses_a_signal() -> None:
    for name in scaleplane.cli.COMMAND_MODULES:  # as `main()` does: every command, `simulate` among them
        importlib.import_module(f"scaleplane.cli.{name}")
    runner = CliRunner()
    result = runner.invoke(
        cli_app.app, ["simulate", "--policy", POLICY, "--trace", TRACE, "--baseline", "hpa", "--json"]
    )
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["replica_hours"] > 0 and report["baseline"]["replica_hours"] > 0
    assert report["peak_replicas"] > 2  # the ramp drives the modelled pods' CPU above 60 %
    bad = runner.invoke(
        cli_app.app, ["simulate", "--policy", POLICY, "--trace", TRACE, "--signal", "cpu=demand"]
    )
    assert bad.exit_code == 2
    assert bad.stderr.strip().splitlines()[-1] == (
        "error: web-cpu-utilization: metric(s) cpu: a Resource metric reads the modelled pods' utilization, "
        "not a demand or backlog signal"
    )
