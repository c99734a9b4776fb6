"""`scaleplane import` on the HPA and ScaledObject examples of the Kubernetes and KEDA docs (fixtures/,
each with its source), each result round-tripped through `scaleplane simulate`; and its bad input."""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

import scaleplane.cli
from scaleplane import migrating
from scaleplane.cli import app as cli_app
from scaleplane.guardrails import exported_series
from scaleplane.infra import exporter_catalogs
from scaleplane.metrics import pods
from scaleplane.scaling import specs

FIXTURES = Path(__file__).parent / "fixtures"
REPO = Path(__file__).resolve().parents[2]
TRACE = REPO / "traces" / "synthetic-noisy.csv"


def run(*args: str) -> tuple[int, str, str]:
    for name in scaleplane.cli.COMMAND_MODULES:
        importlib.import_module(f"scaleplane.cli.{name}")
    result = CliRunner().invoke(cli_app.app, list(args))
    return result.exit_code, result.stdout, result.stderr


def imported(fixture: str) -> tuple[list[dict[str, Any]], str]:
    code, out, err = run("import", str(FIXTURES / fixture))
    assert code == 0, err
    return [doc for doc in yaml.safe_load_all(out) if doc], err


@pytest.mark.parametrize("fixture", sorted(p.name for p in FIXTURES.glob("*.yaml")))
def test_every_docs_example_converts_and_simulates(fixture: str, tmp_path: Path) -> None:
    out = tmp_path / "policy.yaml"
    code, _, err = run("import", str(FIXTURES / fixture), "-o", str(out))
    assert code == 0, err
    for document in yaml.safe_load_all(out.read_text()):
        specs.parse_policy(document["spec"])  # the operator's own model accepts it
    code, stdout, err = run("simulate", "--trace", str(TRACE), "--policy", str(out), "--json")
    assert code == 0, err
    result = json.loads(stdout)
    assert result["replica_hours"] > 0 and "slo_violation_minutes" in result


def test_php_apache_cpu_utilization_becomes_a_resource_metric() -> None:
    (policy,), notes = imported("hpa-php-apache.yaml")
    spec = policy["spec"]
    assert spec["targetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "php-apache"}
    assert (spec["minReplicas"], spec["maxReplicas"]) == (1, 10)
    (metric,) = spec["metrics"]
    assert metric == {
        "name": "cpu",
        "type": "Resource",
        "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 50}},
    }
    assert "computed by the HPA's replica calculator" in notes
    # What the operator reads for it is what kube-prometheus-stack exports in the stacks.
    exported = {*exporter_catalogs.CADVISOR.series, *exporter_catalogs.KUBE_STATE_METRICS.series}
    assert {name for name, _ in _pod_series()} <= exported


def _pod_series() -> list[tuple[str, str]]:
    asked = pods.queries({"default"}, {"cpu", "memory"})
    return [(exported_series.metric_names(query).pop(), key) for key, query in asked.items()]


def test_multiple_metrics_keep_their_target_types_and_quantities() -> None:
    (policy,), notes = imported("hpa-multiple-metrics.yaml")
    metrics = {m["name"]: m for m in policy["spec"]["metrics"]}
    assert metrics["packets-per-second"]["target"] == {"type": "AverageValue", "value": 1000.0}  # 1k
    assert metrics["packets-per-second"]["query"].startswith('sum(packets_per_second{namespace="default"')
    assert metrics["requests-per-second"]["target"] == {"type": "Value", "value": 10000.0}  # 10k
    assert 'ingress="main-route"' in metrics["requests-per-second"]["query"]
    assert "check them against the adapter's rules" in notes


def test_keda_prometheus_trigger_keeps_query_threshold_and_keda_defaults() -> None:
    (policy,), notes = imported("keda-prometheus.yaml")
    spec = policy["spec"]
    assert (spec["minReplicas"], spec["maxReplicas"], spec["cooldownSeconds"]) == (0, 100, 300)
    (metric,) = spec["metrics"]
    assert metric["query"] == 'sum(rate(http_requests_total{deployment="my-deployment"}[2m]))'
    assert metric["target"] == {"type": "AverageValue", "value": 100.0}
    assert "serverAddress: 'http://<prometheus-host>:9090' not carried over" in notes


def test_keda_activation_threshold_kept_authentication_and_other_kinds_named() -> None:
    (policy,), notes = imported("keda-prometheus-azure.yaml")
    (metric,) = policy["spec"]["metrics"]
    assert metric["activationThreshold"] == 5.5 and metric["target"]["value"] == 100.5
    assert "document 1 (TriggerAuthentication) is not an HPA or ScaledObject: skipped" in notes
    assert "authenticationRef: not carried over" in notes


def test_keda_cpu_of_one_container_and_memory_cannot_sleep_at_zero() -> None:
    (cpu,), notes = imported("keda-cpu-container.yaml")
    (metric,) = cpu["spec"]["metrics"]
    assert metric["name"] == "cpu_foo" and metric["resource"]["container"] == "foo"
    assert metric["resource"]["target"] == {"type": "Utilization", "averageUtilization": 50}
    assert "activationValue: not carried over" in notes
    (memory,), notes = imported("keda-memory.yaml")
    assert memory["spec"]["minReplicas"] == 1  # KEDA cannot scale to zero on cpu/memory alone
    assert "cannot wake from zero" in notes
    assert memory["spec"]["metrics"][0]["resource"]["name"] == "memory"


def _hpa(**spec: Any) -> dict[str, Any]:
    base = {"scaleTargetRef": {"kind": "Deployment", "name": "web"}, "maxReplicas": 5, **spec}
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "web"},
        "spec": base,
    }


def test_behavior_and_external_metric_selectors_carry_over() -> None:
    behavior = {
        "scaleDown": {
            "stabilizationWindowSeconds": 60,
            "policies": [{"type": "Pods", "value": 1, "periodSeconds": 30}],
        }
    }
    external = {
        "type": "External",
        "external": {
            "metric": {"name": "queue_messages_ready", "selector": "queue=worker_tasks"},
            "target": {"type": "AverageValue", "averageValue": 30},
        },
    }
    conversion = migrating.convert(_hpa(behavior=behavior, metrics=[external]))
    assert conversion is not None
    spec = conversion.manifest["spec"]
    assert spec["behavior"] == behavior
    assert spec["metrics"][0]["query"] == 'sum(queue_messages_ready{queue="worker_tasks"})'


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("a: [1", "not valid YAML"),
        (
            "apiVersion: v1\nkind: Secret\n",
            "no autoscaling/v2 HorizontalPodAutoscaler or keda.sh/v1alpha1 ScaledObject",
        ),
        (
            yaml.safe_dump({**_hpa(), "spec": {"scaleTargetRef": {"name": "web"}}}),
            "spec.maxReplicas: is required",
        ),
        (
            yaml.safe_dump({**_hpa(), "apiVersion": "autoscaling/v1"}),
            "only autoscaling/v2 and autoscaling/v2beta2",
        ),
        (
            yaml.safe_dump(
                _hpa(
                    metrics=[
                        {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization"}}}
                    ]
                )
            ),
            "spec.metrics[0].target: needs Utilization with averageUtilization",
        ),
        (
            "apiVersion: keda.sh/v1alpha1\nkind: ScaledObject\nmetadata: {name: q}\n"
            "spec: {scaleTargetRef: {name: w}, triggers: [{type: kafka, metadata: {topic: t}}]}\n",
            "no prometheus, cpu or memory trigger to convert",
        ),
        (yaml.safe_dump(_hpa(maxReplicas=0)), "the converted policy is not valid"),
    ],
    ids=["yaml", "no-autoscaler", "no-max", "v1", "no-utilization", "kafka-only", "invalid-policy"],
)
def test_bad_input_is_one_error_line_with_exit_2(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "in.yaml"
    path.write_text(content)
    code, _, err = run("import", str(path))
    assert code == 2
    last = err.strip().splitlines()[-1]
    assert last.startswith("error: ") and message in last and "Traceback" not in err


def test_a_file_that_is_not_utf8_is_one_error_line(tmp_path: Path) -> None:
    binary = tmp_path / "hpa.yaml"
    binary.write_bytes(b"k\x84\xff: v\n")  # what the CLI fuzz test found: an internal error before
    code, _, err = run("import", str(binary))
    assert code == 2
    expected = f"error: {binary}: not a text file (not UTF-8); give the HPA or ScaledObject as YAML"
    assert err.strip() == expected
