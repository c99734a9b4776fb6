"""The stacks deploy dashboards/ and the alert rules: ConfigMaps for Grafana's sidecar, PrometheusRules,
the operator's PodMonitor, and Alertmanager's webhook route from stack config."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from scaleplane.infra import config
from scaleplane.observability import generating
from tests.support import planned_stacks

ROOT = Path(__file__).resolve().parents[2]
CONFIGMAP = "kubernetes:core/v1:ConfigMap"
RULE = "kubernetes:monitoring.coreos.com/v1:PrometheusRule"
PODMONITOR = "kubernetes:monitoring.coreos.com/v1:PodMonitor"
RELEASE = "kubernetes:helm.sh/v3:Release"


def _rules(plan, name: str) -> list[dict]:
    (found,) = [r for r in plan.by_type(RULE) if r.inputs["metadata"]["name"] == name]
    return found.inputs["spec"]["groups"]


def _alertmanager(plan) -> dict:
    (release,) = [r for r in plan.by_type(RELEASE) if r.inputs["chart"] == "kube-prometheus-stack"]
    return release.inputs["values"]["alertmanager"]["config"]


@pytest.mark.parametrize("stack", ["k8s-dev", "aws-prod"])
def test_every_generated_dashboard_is_a_configmap_for_the_grafana_sidecar(stack: str) -> None:
    plan = planned_stacks.planned(stack)
    maps = {}
    for resource in plan.by_type(CONFIGMAP):
        if resource.inputs["metadata"].get("labels", {}).get("grafana_dashboard") == "1":
            ((key, text),) = resource.inputs["data"].items()
            maps[key] = json.loads(text)
    assert set(maps) == set(generating.dashboards())
    for key, model in maps.items():
        assert model == json.loads((ROOT / "dashboards" / key).read_text())


def test_alert_rules_and_slo_rules_are_prometheus_rules() -> None:
    plan = planned_stacks.planned("k8s-dev")
    on_disk = yaml.safe_load((ROOT / "dashboards" / generating.AUTOSCALING_RULES).read_text())
    assert _rules(plan, "scaleplane-rules") == on_disk["groups"]
    # The SLO rules come from the stack's objectives: the defaults give the checked-in file's rules.
    slos = yaml.safe_load((ROOT / "dashboards" / generating.SLO_RULES).read_text())
    assert _rules(plan, "scaleplane-slos") == slos["groups"]


def test_a_stack_declares_its_own_objective_and_gets_its_burn_rate_alerts() -> None:
    checkout = {
        "service": "checkout",
        "name": "availability",
        "objective": 99.5,
        "errorQuery": 'sum(rate(http_requests_total{job="checkout",code=~"5.."}[{{window}}]))',
        "totalQuery": 'sum(rate(http_requests_total{job="checkout"}[{{window}}]))',
    }
    plan = planned_stacks.planned("k8s-dev", {"monitoring": {"slos": [checkout]}})
    (group,) = _rules(plan, "scaleplane-slos")
    alerts = [r for r in group["rules"] if "alert" in r]
    assert {a["labels"]["slo_service"] for a in alerts} == {"checkout"}
    fast = next(a for a in alerts if a["alert"] == "ScaleplaneSLOErrorBudgetBurnFast")
    assert "(14.4 * 0.005)" in fast["expr"] and "(6 * 0.005)" in fast["expr"]
    records = {r["record"]: r["expr"] for r in group["rules"] if "record" in r}
    assert 'http_requests_total{job="checkout",code=~"5.."}[1h]' in records["slo:sli_error:ratio_rate1h"]


def test_runbook_links_open_from_the_base_url_and_the_guardrail_still_finds_the_files() -> None:
    from scaleplane.guardrails import catalog, rules, running

    base = "https://github.com/example/scaleplane/blob/main/"
    plan = planned_stacks.planned("k8s-dev", {"monitoring": {"runbookBaseUrl": base}})
    links = {
        r["annotations"]["runbook_url"]
        for name in ("scaleplane-rules", "scaleplane-slos")
        for g in _rules(plan, name)
        for r in g["rules"]
        if "alert" in r
    }
    assert base + "runbooks/scaleplane-policy-at-max.md" in links
    assert all(link.startswith(base + "runbooks/") for link in links)
    checked = [rules.Resource(type=r.type, name=r.name, props=r.inputs) for r in plan.by_type(RULE)]
    rule = catalog.by_id("alert-runbook-exists")
    assert running.evaluate(checked, {rule.id: {"projectRoot": str(ROOT)}}, [rule]) == []


def test_the_operator_is_scraped_under_the_job_the_alerts_name() -> None:
    plan = planned_stacks.planned("k8s-dev")
    (monitor,) = [
        m for m in plan.by_type(PODMONITOR) if m.inputs["metadata"]["name"] == "scaleplane-operator"
    ]
    spec = monitor.inputs["spec"]
    assert spec["namespaceSelector"] == {"matchNames": ["scaleplane-system"]}
    assert spec["podMetricsEndpoints"][0]["port"] == "metrics"
    assert spec["podMetricsEndpoints"][0]["relabelings"] == [
        {"targetLabel": "job", "replacement": "scaleplane-operator"}
    ]
    manifest = (ROOT / "operator" / "deployment.yaml").read_text()
    assert "app.kubernetes.io/name: scaleplane-operator" in manifest and "name: metrics" in manifest


def test_the_gateway_is_scraped_with_its_function_labels_when_functions_are_on() -> None:
    functions = {"operator": {"manifestsDir": "operator", "functions": {"enabled": True}}}
    plan = planned_stacks.planned("k8s-dev", functions)
    (monitor,) = [m for m in plan.by_type(PODMONITOR) if m.inputs["metadata"]["name"] == "scaleplane-gateway"]
    [endpoint] = monitor.inputs["spec"]["podMetricsEndpoints"]
    assert (endpoint["port"], endpoint["path"], endpoint["honorLabels"]) == ("http", "/metrics", True)
    manifest = (ROOT / "operator" / "gateway.yaml").read_text()
    assert "app.kubernetes.io/name: scaleplane-gateway" in manifest and "{name: http, " in manifest
    without = planned_stacks.planned("k8s-dev")
    assert [
        m for m in without.by_type(PODMONITOR) if m.inputs["metadata"]["name"] == "scaleplane-gateway"
    ] == []


def test_alertmanager_routes_to_the_webhook_from_config() -> None:
    assert _alertmanager(planned_stacks.planned("k8s-dev"))["route"]["receiver"] == "null"
    hook = "https://hooks.example.com/alerts/T0KEN"
    routed = _alertmanager(
        planned_stacks.planned("k8s-dev", {"monitoring": {"alertmanager": {"webhookUrl": hook}}})
    )
    assert routed["route"]["receiver"] == "webhook"
    (webhook,) = [r for r in routed["receivers"] if r["name"] == "webhook"]
    assert webhook["webhook_configs"] == [{"url": hook, "send_resolved": True}]


@pytest.mark.parametrize(
    ("monitoring", "expected"),
    [
        (
            {
                "slos": [
                    {
                        "service": "api",
                        "name": "x",
                        "objective": 99,
                        "errorQuery": "e",
                        "totalQuery": "t[{{window}}]",
                    }
                ]
            },
            "scaleplane:monitoring.slos[0].errorQuery: must contain {{window}} where the range goes, was 'e'",
        ),
        (
            {
                "slos": [
                    {
                        "service": "api",
                        "name": "x",
                        "objective": 100,
                        "errorQuery": "[{{window}}]",
                        "totalQuery": "[{{window}}]",
                    }
                ]
            },
            "scaleplane:monitoring.slos[0].objective: must be < 100.0, was 100",
        ),
        (
            {"alertmanager": {"webhookUrl": "hooks.example.com"}},
            "scaleplane:monitoring.alertmanager.webhookUrl",
        ),
    ],
)
def test_bad_observability_config_names_the_key(monitoring: dict, expected: str) -> None:
    with pytest.raises(config.ConfigError) as error:
        config.parse({"monitoring": monitoring})
    assert expected in str(error.value)
