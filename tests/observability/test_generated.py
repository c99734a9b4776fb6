"""dashboards/ holds what scaleplane.observability generates; every dashboard and alert is well formed."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scaleplane.cli import app as cli_app
from scaleplane.cli import observing  # noqa: F401  (registers the command)
from scaleplane.observability import boards, generating, rules

ROOT = Path(__file__).resolve().parents[2]
DASHBOARDS = ROOT / "dashboards"
# Every series a dashboard or rule may read: the loop's and operator's, CloudNativePG's, redis_exporter's,
# the recorded SLO series, Prometheus' own `up`, the default objectives' service (the sample app), and
# Patroni's REST API /metrics (the local HA database; the db-primary-loss drill scrapes it for real).
KNOWN_PREFIXES = ("scaleplane_", "cnpg_", "redis_", "slo:", "up", "sample_http_", "patroni_")
PROMQL_WORDS = {
    "by", "on", "and", "or", "unless", "sum", "max", "min", "avg", "count", "rate", "increase", "vector",
    "histogram_quantile", "avg_over_time", "clamp_min", "absent", "le", "group_left", "group_right",
    "ignoring", "without", "bool", "offset", "group", "label_replace", "label_join",
}  # fmt: skip


def test_files_on_disk_match_the_builders() -> None:
    assert generating.drift(DASHBOARDS) == [], "run `uv run scaleplane observability generate`"


def test_drift_is_detected_and_the_cli_check_fails(tmp_path: Path) -> None:
    generating.write(tmp_path)
    assert generating.drift(tmp_path) == []
    runner = CliRunner()
    assert runner.invoke(cli_app.app, ["observability", "generate", "--check", str(tmp_path)]).exit_code == 0
    (tmp_path / "scaleplane-cache.json").write_bytes(b"\x84\xff not text")
    (tmp_path / "rules" / "slos.rules.yaml").unlink()
    assert generating.drift(tmp_path) == ["scaleplane-cache.json", "rules/slos.rules.yaml"]
    result = runner.invoke(cli_app.app, ["observability", "generate", "--check", str(tmp_path)])
    assert result.exit_code == 1
    assert "scaleplane-cache.json" in result.output
    assert "run `scaleplane observability generate`" in result.output
    assert runner.invoke(cli_app.app, ["observability", "generate", str(tmp_path)]).exit_code == 0
    assert generating.drift(tmp_path) == []


def test_a_file_where_the_folder_should_be_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "dashboards").write_text("")
    result = CliRunner().invoke(cli_app.app, ["observability", "generate", str(tmp_path / "dashboards")])
    assert result.exit_code == 2
    assert "error: " in result.output and "not a directory" in result.output


@pytest.mark.parametrize("name", sorted(generating.dashboards()))
def test_dashboard_is_well_formed(name: str) -> None:
    model = json.loads((DASHBOARDS / name).read_text())
    assert model["uid"] == name.removesuffix(".json")
    assert model["title"].startswith("Scaleplane / ")
    panels = [p for top in model["panels"] for p in [top, *top.get("panels", [])]]
    ids = [p["id"] for p in panels]
    assert len(ids) == len(set(ids)) and 0 not in ids
    for panel in panels:
        if panel["type"] == "row":
            continue
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, panel["title"]
        assert panel.get("description"), f"{panel['title']}: say what the panel shows"
        ref_ids = [t["refId"] for t in panel["targets"]]
        assert ref_ids and len(set(ref_ids)) == len(ref_ids) and "" not in ref_ids
    variables = {v["name"]: v for v in model["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    for _, expr in boards.expressions(model):
        for used in re.findall(r"\$(\w+)", expr):
            assert used.startswith("__") or used in variables, f"{name}: ${used} is not a variable"


def _series_names(expr: str) -> set[str]:
    without_strings = re.sub(r'"[^"]*"', '""', expr)
    without_ranges = re.sub(r"\[[^\]]*\]", "", without_strings)
    without_labels = re.sub(r"\{[^}]*\}", "", without_ranges)
    without_groupings = re.sub(
        r"\b(by|on|without|ignoring|group_left|group_right)\s*\([^)]*\)", "", without_labels
    )
    tokens = set(re.findall(r"[A-Za-z_:][A-Za-z0-9_:]*", without_groupings))
    return {t for t in tokens if t not in PROMQL_WORDS and not t.startswith("__")}


def test_every_expression_reads_only_published_series() -> None:
    models = generating.dashboards().values()
    expressions = [expr for model in models for _, expr in boards.expressions(model)]
    for groups in generating.rule_groups().values():
        for group in groups:
            expressions += [r.expr for r in group.rules] + [a.signal for a in group.alerts]
    for expr in expressions:
        for name in _series_names(expr):
            assert name.startswith(KNOWN_PREFIXES), f"{name!r} in {expr!r} is no published series"


def test_every_alert_is_kubernetes_mixin_shaped_and_has_a_runbook() -> None:
    alerts = generating.all_alerts()
    assert len({a.name for a in alerts}) >= 12
    for alert in alerts:
        rule = alert.rule()
        assert rule["labels"]["severity"] in ("critical", "warning")
        assert set(rule["annotations"]) == {"summary", "description", "runbook_url"}
        runbook = ROOT / rule["annotations"]["runbook_url"]
        assert runbook.is_file(), f"{alert.name}: write {runbook.relative_to(ROOT)}"
        assert runbook.read_text().startswith(f"# {alert.name}\n")


def test_kebab_names_and_scaled_holds() -> None:
    assert rules.kebab("ScaleplaneSLOErrorBudgetBurnFast") == "scaleplane-slo-error-budget-burn-fast"
    assert rules.kebab("ScaleplanePolicyAtMax") == "scaleplane-policy-at-max"
    assert rules.scaled("15m", 1) == "15m"
    assert rules.scaled("15m", 1 / 30) == "30s"
    assert rules.scaled("2m", 0.001) == "1s"
    with pytest.raises(ValueError, match="was '1d2h'"):
        rules.scaled("1d2h", 0.5)
