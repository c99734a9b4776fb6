"""The `scalingpolicy-series-exported` rule: the metric names of a query, and the stacks it judges."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from scaleplane.cli import app
from scaleplane.cli import plan as plan_commands  # noqa: F401 - importing it registers plan and check
from scaleplane.guardrails import exported_series, rules, running
from scaleplane.infra import exporter_catalogs
from scaleplane.infra import planning as infra_planning
from tests.support import planned_stacks

UNEXPORTED = Path(__file__).parent / "fixtures" / "Pulumi.k8s-unexported.yaml"


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ('max(redis_key_size{key="celery"})', {"redis_key_size"}),  # an aggregation is not a series
        ("sum(rate(pg_stat_database_xact_commit[2m]))", {"pg_stat_database_xact_commit"}),  # nor a range
        # grouping labels, `on(...)`, `group_left`, numbers and `offset` are not series either
        (
            "sum by (pod) (rate(container_cpu_usage_seconds_total[5m])) / on(pod) group_left "
            'kube_pod_container_resource_requests{resource="cpu"} > 0.5 and 1e3 offset 5m',
            {"container_cpu_usage_seconds_total", "kube_pod_container_resource_requests"},
        ),
        ('{__name__="foo"} + histogram_quantile(0.9, sum(rate(b[1m])) by (le))', {"foo", "b"}),
        ("avg_over_time(x[5m:1m]) * 2 or vector(0)", {"x"}),  # a subquery's range, a function's call
        ('label_replace(up, "a", "$1", "job", "(.*)")', {"up"}),  # strings hold no series
        ("level:requests:rate5m / 2", {"level:requests:rate5m"}),  # recording rule names have colons
    ],
)
def test_metric_names(query: str, names: set[str]) -> None:
    assert exported_series.metric_names(query) == names


def _resources(plan: infra_planning.Plan) -> list[rules.Resource]:
    return [rules.Resource(type=r.type, name=r.name, props=r.inputs) for r in plan.resources]


def _rule_violations(plan: infra_planning.Plan) -> list[rules.Violation]:
    return running.evaluate(_resources(plan), ruleset=exported_series.RULES)


@pytest.mark.parametrize("stack", ["aws-prod", "aws-dev", "k8s-dev"])
def test_the_default_policies_of_the_example_stacks_read_exported_series(stack: str) -> None:
    plan = planned_stacks.planned(stack)
    assert _rule_violations(plan) == []
    available = exported_series.exported(_resources(plan))
    assert {"redis_key_size", "kube_pod_container_resource_requests"} <= available


def test_a_policy_reading_a_series_nothing_exports_fails_naming_the_policy_the_series_and_the_fix() -> None:
    plan = infra_planning.plan(planned_stacks.ROOT, "k8s-unexported", UNEXPORTED)
    (violation,) = _rule_violations(plan)
    assert violation.resource is not None and violation.resource.name == "scaleplane-dev-operator-workers"
    assert "ScalingPolicy 'workers'" in violation.message and "celery_queue_length" in violation.message


def test_without_monitoring_nothing_is_exported_so_the_default_policies_fail() -> None:
    plan = planned_stacks.planned("k8s-dev", {"monitoring": {"enabled": False}})
    names = {v.resource.name for v in _rule_violations(plan) if v.resource}
    assert names == {"scaleplane-dev-operator-workers", "scaleplane-dev-operator-read-replicas"}


def test_the_guardrail_reads_the_label_the_exporter_components_write() -> None:
    assert exported_series.CATALOG_LABEL == exporter_catalogs.CATALOG_LABEL


def test_check_command_fails_on_the_fixture_and_passes_on_k8s_dev() -> None:
    runner = CliRunner()
    bad = runner.invoke(app.app, ["check", "--stack", "k8s-unexported", "--config-file", str(UNEXPORTED)])
    assert bad.exit_code == 1
    assert "MANDATORY scalingpolicy-series-exported" in bad.stdout
    assert "reads celery_queue_length, which nothing in this stack exports" in bad.stdout
    assert "fix: Use a series the stack's exporters publish" in bad.stdout
    good = runner.invoke(
        app.app, ["check", "--stack", "k8s-dev", "--config-file", str(planned_stacks.stack_file("k8s-dev"))]
    )
    assert good.exit_code == 0, good.stdout


def test_a_resource_metric_needs_kube_state_metrics_and_cadvisor_in_the_stack() -> None:
    cpu = {
        "name": "cpu",
        "type": "Resource",
        "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 60}},
    }
    policy = rules.Resource(
        type=exported_series.POLICY,
        name="web-cpu",
        props={"metadata": {"name": "web"}, "spec": {"metrics": [cpu]}},
    )

    def catalog(*catalogs: exporter_catalogs.Catalog) -> rules.Resource:
        labels = {exported_series.CATALOG_LABEL: "x"}
        series = "\n".join(name for c in catalogs for name in c.series)
        return rules.Resource(
            type=exported_series.CONFIGMAP,
            name="c",
            props={"metadata": {"labels": labels}, "data": {"series": series}},
        )

    both = catalog(exporter_catalogs.KUBE_STATE_METRICS, exporter_catalogs.CADVISOR)
    assert running.evaluate([policy, both], ruleset=exported_series.RULES) == []
    (violation,) = running.evaluate(
        [policy, catalog(exporter_catalogs.CADVISOR)], ruleset=exported_series.RULES
    )
    assert "ScalingPolicy 'web', metric 'cpu': a Resource cpu metric reads kube_pod_container_info" in (
        violation.message
    )
