"""`Monitoring`: kube-prometheus-stack (Prometheus, Alertmanager, Grafana) as one Helm release.

What it deploys beside the release:
- the dashboards of dashboards/ (`monitoring.dashboardFiles`) as ConfigMaps labelled
  `grafana_dashboard: "1"`, which Grafana's sidecar loads from any namespace;
- the alert rules of dashboards/rules/ (`monitoring.ruleFiles`) and the SLO burn-rate rules generated
  from `monitoring.slos` as PrometheusRule resources (Prometheus selects every PrometheusRule,
  `ruleSelectorNilUsesHelmValues: false`);
- a PodMonitor for the scaleplane operator's /metrics, its job relabelled `scaleplane-operator` (the
  job the alerts name), and with `operator.functions.enabled` one for the function gateway's (the
  Functions dashboard and alerts), keeping the gateway's own `namespace` and `function` labels;
- Alertmanager's route to the webhook of `monitoring.alertmanager.webhookUrl`.
Adding a dashboard or a rule file is `add_dashboard` / `add_rules` or a glob, with no change to the release.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import yaml

from scaleplane.infra import backends, config
from scaleplane.observability import generating, objectives, routes

NAMESPACE = "monitoring"
CHART_REPOSITORY = "https://prometheus-community.github.io/helm-charts"
DASHBOARD_LABEL = "grafana_dashboard"
OPERATOR_JOB = "scaleplane-operator"
GATEWAY_JOB = "scaleplane-gateway"


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
                groups = yaml.safe_load(path.read_text()).get("groups", [])
                self.add_rules(_rule_name(path), _linked(groups, settings.runbook_base_url))
        if settings.slos:
            slo_rules = yaml.safe_load(generating.rules_text((objectives.group(settings.slos),)))
            self.add_rules("scaleplane-slos", _linked(slo_rules["groups"], settings.runbook_base_url))
        if platform.operator.enabled:
            self.operator_monitor = self._operator_monitor(platform.operator.namespace)
            if platform.operator.functions.enabled:
                self.gateway_monitor = self._gateway_monitor(platform.operator.namespace)
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

    def _operator_monitor(self, namespace: str) -> k8s.apiextensions.CustomResource:
        """Scrape the operator's pods (port `metrics`) under the job name the alerts expect."""
        return k8s.apiextensions.CustomResource(
            f"{self._name}-operator-podmonitor",
            api_version="monitoring.coreos.com/v1",
            kind="PodMonitor",
            # In the monitoring namespace (it exists once the release does), looking into the operator's.
            metadata={"namespace": NAMESPACE, "name": OPERATOR_JOB},
            spec={
                "namespaceSelector": {"matchNames": [namespace]},
                "selector": {"matchLabels": {"app.kubernetes.io/name": OPERATOR_JOB}},
                "podMetricsEndpoints": [
                    {
                        "port": "metrics",
                        "interval": "15s",
                        "relabelings": [{"targetLabel": "job", "replacement": OPERATOR_JOB}],
                    }
                ],
            },
            opts=backends.child(self, provider=self._provider, depends_on=[self.release]),
        )

    def _gateway_monitor(self, namespace: str) -> k8s.apiextensions.CustomResource:
        """Scrape the gateway's pods (port `http`, /metrics). `honorLabels`: its series carry the
        function's `namespace`, which the pod's own target label would otherwise rename away."""
        return k8s.apiextensions.CustomResource(
            f"{self._name}-gateway-podmonitor",
            api_version="monitoring.coreos.com/v1",
            kind="PodMonitor",
            metadata={"namespace": NAMESPACE, "name": GATEWAY_JOB},
            spec={
                "namespaceSelector": {"matchNames": [namespace]},
                "selector": {"matchLabels": {"app.kubernetes.io/name": GATEWAY_JOB}},
                "podMetricsEndpoints": [
                    {
                        "port": "http",
                        "path": "/metrics",
                        "interval": "15s",
                        "honorLabels": True,
                        "relabelings": [{"targetLabel": "job", "replacement": GATEWAY_JOB}],
                    }
                ],
            },
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
        # Resource metrics pick a target's pods by its selector from kube_pod_labels, which carries only
        # the pod labels this allowlist names (metrics.selectors).
        "kube-state-metrics": {"metricLabelsAllowlist": ["pods=[*]"]},
        "kubelet": {"enabled": True, "serviceMonitor": {"cAdvisor": True}},
        "grafana": {
            "enabled": settings.grafana,
            "sidecar": {
                "dashboards": {"enabled": True, "label": DASHBOARD_LABEL, "searchNamespace": "ALL"},
            },
        },
        "alertmanager": {"config": routes.config(_route(settings.alertmanager))},
        "commonLabels": {"environment": platform.environment},
    }


def _route(settings: config.AlertmanagerConfig) -> routes.Route:
    return routes.Route(
        webhook_url=settings.webhook_url,
        send_resolved=settings.send_resolved,
        group_wait=settings.group_wait,
        group_interval=settings.group_interval,
        repeat_interval=settings.repeat_interval,
    )


def _linked(groups: list[dict[str, Any]], base_url: str) -> list[dict[str, Any]]:
    """The groups with each relative runbook_url prefixed by `base_url` (unchanged when it is empty)."""
    if not base_url:
        return groups
    for group in groups:
        for rule in group.get("rules", []):
            annotations = rule.get("annotations") or {}
            url = str(annotations.get("runbook_url") or "")
            if url and "://" not in url:
                annotations["runbook_url"] = base_url + url.lstrip("/")
    return groups


def _rule_name(path: Path) -> str:
    """A Kubernetes name from a rule file's name: `scaleplane.rules.yaml` -> `scaleplane-rules`."""
    return path.name.removesuffix(".yaml").removesuffix(".yml").replace(".", "-").replace("_", "-").lower()


def _matching(root: Path, pattern: str, key: str) -> list[Path]:
    # pathlib globs only relative patterns: an absolute one is globbed from the filesystem root.
    base, relative = (Path("/"), pattern.lstrip("/")) if Path(pattern).is_absolute() else (root, pattern)
    paths = sorted(base.glob(relative))
    if not paths:
        raise config.ConfigError([f"{config.NAMESPACE}:{key}: no file matches, was {pattern!r}"])
    return paths
