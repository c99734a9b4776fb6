"""`promtool check rules` accepts every generated rule file; `promtool test rules` covers every alert."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from scaleplane.observability import functionboards, generating

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


def test_the_function_panels_find_each_functions_policy_under_both_names(tmp_path: Path) -> None:
    """A Function's policy: `resize` in its own namespace (the operator), `fn-demo-work` in `local` (the
    local platform); a worker policy is no function's and stays out. Evaluated by promtool itself."""
    expr = functionboards.of_functions("scaleplane_desired_replicas").replace("$namespace", ".*")
    expr = expr.replace("$function", ".*")
    series = {
        'scaleplane_gateway_ready_instances{namespace="shop",function="resize"}': "2x3",
        'scaleplane_gateway_ready_instances{namespace="demo",function="work"}': "0x3",
        'scaleplane_desired_replicas{namespace="shop",policy="resize"}': "3x3",
        'scaleplane_desired_replicas{namespace="local",policy="fn-demo-work"}': "1x3",
        'scaleplane_desired_replicas{namespace="shop",policy="workers"}': "5x3",
        'scaleplane_desired_replicas{namespace="other",policy="resize"}': "7x3",
    }
    case = {
        "rule_files": [],
        "tests": [
            {
                "interval": "1m",
                "input_series": [{"series": k, "values": v} for k, v in series.items()],
                "promql_expr_test": [
                    {
                        "expr": expr,
                        "eval_time": "2m",
                        "exp_samples": [
                            {"labels": '{namespace="shop",policy="resize",function="resize"}', "value": 3},
                            {
                                "labels": '{namespace="demo",policy="fn-demo-work",function="work"}',
                                "value": 1,
                            },
                        ],
                    }
                ],
            }
        ],
    }
    path = tmp_path / "join.yaml"
    path.write_text(yaml.safe_dump(case))
    result = _promtool("test", "rules", path)
    assert result.returncode == 0, result.stdout + result.stderr
