"""`Monitoring`: kube-prometheus-stack (Prometheus, Alertmanager, Grafana) as one Helm release.

Hooks for the dashboards and alert rules that come later (dashboards/): Grafana's sidecar loads every
ConfigMap labelled `grafana_dashboard: "1"` in any namespace, and Prometheus selects every
PrometheusRule regardless of its Helm release (`ruleSelectorNilUsesHelmValues: false`). So adding a
dashboard or a rule file is `add_dashboard` / `add_rules`, or a glob in `monitoring.dashboardFiles` /
`monitoring.ruleFiles`, with no change to the release.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import yaml

from scaleplane.infra import backends, config

NAMESPACE = "monitoring"
CHART_REPOSITORY = "https://prometheus-community.github.io/helm-charts"
DASHBOARD_LABEL = "grafana_dashboard"


class Monitoring(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        platform: config.PlatformConfig,
        cluster: backends.ClusterHandle,
        project_root: Path,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("scaleplane:monitoring:Monitoring", name, None, opts)
        self._name = name
        self._provider = cluster.provider
        settings = platform.monitoring
        self.release = k8s.helm.v3.Release(
            f"{name}-kube-prometheus-stack",
            name="kube-prometheus-stack",
            chart="kube-prometheus-stack",
            version=settings.chart_version,
            repository_opts={"repo": CHART_REPOSITORY},
            namespace=NAMESPACE,
            create_namespace=True,
            values=_values(platform),
            opts=backends.child(self, provider=cluster.provider),
        )
        for pattern in settings.dashboard_files:
            for path in _matching(project_root, pattern, "monitoring.dashboardFiles"):
                self.add_dashboard(path.stem, json.loads(path.read_text()))
        for pattern in settings.rule_files:
            for path in _matching(project_root, pattern, "monitoring.ruleFiles"):
                self.add_rules(path.stem, yaml.safe_load(path.read_text()).get("groups", []))
        self.prometheus_url = pulumi.Output.from_input(
            f"http://kube-prometheus-stack-prometheus.{NAMESPACE}.svc.cluster.local:9090"
        )
        self.register_outputs({"prometheusUrl": self.prometheus_url})

    def add_dashboard(self, name: str, dashboard: dict[str, Any]) -> k8s.core.v1.ConfigMap:
        """A Grafana dashboard (its JSON model), picked up by the sidecar without a restart."""
        return k8s.core.v1.ConfigMap(
            f"{self._name}-dashboard-{name}",
            metadata={"namespace": NAMESPACE, "labels": {DASHBOARD_LABEL: "1"}},
            data={f"{name}.json": json.dumps(dashboard)},
            opts=backends.child(self, provider=self._provider, depends_on=[self.release]),
        )

    def add_rules(self, name: str, groups: list[dict[str, Any]]) -> k8s.apiextensions.CustomResource:
        """Prometheus recording/alerting rule groups, as the operator's PrometheusRule resource."""
        return k8s.apiextensions.CustomResource(
            f"{self._name}-rules-{name}",
            api_version="monitoring.coreos.com/v1",
            kind="PrometheusRule",
            metadata={"namespace": NAMESPACE, "name": name},
            spec={"groups": groups},
            opts=backends.child(self, provider=self._provider, depends_on=[self.release]),
        )


def _values(platform: config.PlatformConfig) -> dict[str, Any]:
    settings = platform.monitoring
    return {
        "prometheus": {
            "prometheusSpec": {
                "retention": settings.retention,
                "ruleSelectorNilUsesHelmValues": False,
                "serviceMonitorSelectorNilUsesHelmValues": False,
                "podMonitorSelectorNilUsesHelmValues": False,
                "resources": {"requests": {"cpu": "250m", "memory": "1Gi"}},
            }
        },
        # What the Utilization policies and the catalogs rely on, explicit rather than the chart's defaults.
        "kubeStateMetrics": {"enabled": True},
        "kubelet": {"enabled": True, "serviceMonitor": {"cAdvisor": True}},
        "grafana": {
            "enabled": settings.grafana,
            "sidecar": {
                "dashboards": {"enabled": True, "label": DASHBOARD_LABEL, "searchNamespace": "ALL"},
            },
        },
        "commonLabels": {"environment": platform.environment},
    }


def _matching(root: Path, pattern: str, key: str) -> list[Path]:
    paths = sorted(root.glob(pattern))
    if not paths:
        raise config.ConfigError([f"{config.NAMESPACE}:{key}: no file matches, was {pattern!r}"])
    return paths
