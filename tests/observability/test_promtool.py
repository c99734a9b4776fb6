"""`promtool check rules` accepts every generated rule file; `promtool test rules` covers every alert."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from scaleplane.observability import generating

ROOT = Path(__file__).resolve().parents[2]
DASHBOARDS = ROOT / "dashboards"
TESTS = sorted((DASHBOARDS / "tests").glob("*.yaml"))
PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"


def _promtool(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PROMTOOL, *map(str, args)], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("path", sorted(generating.rule_groups()))
def test_promtool_checks_every_rule_file(path: str) -> None:
    result = _promtool("check", "rules", DASHBOARDS / path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_unit_tests_pass() -> None:
    result = _promtool("test", "rules", *TESTS)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_has_a_firing_and_a_quiet_case() -> None:
    firing: set[str] = set()
    quiet: set[str] = set()
    for path in TESTS:
        for case in yaml.safe_load(path.read_text())["tests"]:
            for check in case.get("alert_rule_test", []):
                (firing if check["exp_alerts"] else quiet).add(check["alertname"])
    names = {alert.name for alert in generating.all_alerts()}
    assert names - firing == set(), "alerts without a test that makes them fire"
    assert names - quiet == set(), "alerts without a test that keeps them quiet"


def test_a_wrong_expectation_fails(tmp_path: Path) -> None:
    """The unit tests can fail: the same file with one annotation changed does."""
    (tmp_path / "rules").mkdir()
    shutil.copy(DASHBOARDS / generating.AUTOSCALING_RULES, tmp_path / generating.AUTOSCALING_RULES)
    (tmp_path / "tests").mkdir()
    text = (DASHBOARDS / "tests" / "scaleplane.rules.test.yaml").read_text()
    broken = text.replace("runbooks/scaleplane-target-errors.md", "runbooks/elsewhere.md")
    assert broken != text
    (tmp_path / "tests" / "broken.yaml").write_text(broken)
    result = _promtool("test", "rules", tmp_path / "tests" / "broken.yaml")
    assert result.returncode != 0 and "ScaleplaneTargetErrors" in result.stdout + result.stderr
