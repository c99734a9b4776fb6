"""The guardrail `alert-runbook-exists`: every deployed alert links a runbook file that exists."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from scaleplane.cli import app as cli_app
from scaleplane.cli import plan as plan_commands  # noqa: F401  (registers `check`)
from scaleplane.guardrails import alerting, catalog, rules, running
from tests.support import planned_stacks

ROOT = planned_stacks.ROOT
RULE = catalog.by_id("alert-runbook-exists")


def _prometheus_rule(*alerts: dict) -> rules.Resource:
    spec = {"groups": [{"name": "team", "rules": [{"record": "x:y", "expr": "1"}, *alerts]}]}
    return rules.Resource(type=alerting.PROMETHEUS_RULE, name="team-rules", props={"spec": spec})


def _alert(name: str, runbook: str | None) -> dict:
    annotations = {"summary": "s"} | ({"runbook_url": runbook} if runbook is not None else {})
    return {"alert": name, "expr": "vector(1)", "annotations": annotations}


def test_every_alert_of_the_planned_stacks_has_its_runbook() -> None:
    for stack in ("k8s-dev", "aws-prod"):
        resources = [
            rules.Resource(type=r.type, name=r.name, props=r.inputs)
            for r in planned_stacks.planned(stack).resources
        ]
        checked = [r for r in resources if RULE.applies_to(r)]
        assert len(checked) == 2  # scaleplane-rules and scaleplane-slos
        settings = {"alert-runbook-exists": {"projectRoot": str(ROOT)}}
        assert running.evaluate(checked, settings, [RULE]) == []


def test_missing_external_and_absent_runbooks_are_violations(tmp_path: Path) -> None:
    (tmp_path / "runbooks").mkdir()
    (tmp_path / "runbooks" / "there.md").write_text("# There\n")
    resource = _prometheus_rule(
        _alert("There", "runbooks/there.md"),
        _alert("NoLink", None),
        _alert("Elsewhere", "https://wiki.example.com/ops/elsewhere"),
        _alert("Renamed", "runbooks/renamed.md"),
        _alert("Linked", "https://github.com/example/repo/blob/main/runbooks/there.md"),
        _alert("LinkedGone", "https://github.com/example/repo/blob/main/runbooks/gone.md"),
    )
    violations = running.evaluate(
        [resource], {"alert-runbook-exists": {"projectRoot": str(tmp_path)}}, [RULE]
    )
    assert [v.enforcement for v in violations] == ["mandatory"] * 4
    messages = [v.message for v in violations]
    assert messages[0] == "alert 'NoLink' (group team) has no runbook_url annotation"
    assert "'Elsewhere'" in messages[1] and "not a file of this project" in messages[1]
    assert "'LinkedGone'" in messages[3] and "which does not exist" in messages[3]
    assert (
        messages[2]
        == f"alert 'Renamed' (group team) links 'runbooks/renamed.md', which does not exist under {tmp_path}"
    )


def test_scaleplane_check_passes_with_the_runbooks_and_names_a_missing_one(tmp_path: Path) -> None:
    runner = CliRunner()
    stack = ["check", "--stack", "k8s-dev", "--config-file", str(planned_stacks.stack_file("k8s-dev"))]
    ok = runner.invoke(cli_app.app, stack)
    assert ok.exit_code == 0, ok.output
    # The same stack with one alert linking a runbook nobody wrote.
    rules_file = tmp_path / "extra.rules.yaml"
    rules_file.write_text(
        "groups:\n- name: extra\n  rules:\n  - alert: Unwritten\n    expr: vector(1)\n"
        "    annotations: {runbook_url: runbooks/unwritten.md}\n"
    )
    config = planned_stacks.stack_file("k8s-dev", {"monitoring": {"ruleFiles": [str(rules_file)]}})
    failed = runner.invoke(cli_app.app, ["check", "--stack", "k8s-dev", "--config-file", str(config)])
    assert failed.exit_code == 1
    assert "MANDATORY alert-runbook-exists" in failed.output
    assert "'Unwritten' (group extra) links 'runbooks/unwritten.md', which does not exist" in failed.output


def test_the_default_root_is_the_nearest_folder_with_a_pulumi_yaml(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: x\n")
    (tmp_path / "policies").mkdir()
    assert alerting.project_root("", start=tmp_path / "policies") == tmp_path.resolve()
    assert alerting.project_root("/elsewhere") == Path("/elsewhere")
    lonely = tmp_path / "policies"
    (tmp_path / "Pulumi.yaml").unlink()
    assert alerting.project_root("", start=lonely) == lonely.resolve()
