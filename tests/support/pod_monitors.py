"""PodMonitors turned into Prometheus scrape jobs the way the Prometheus Operator turns them, for a real
Prometheus on 127.0.0.1 scraping real exporters.

The Prometheus Operator writes one job per `podMetricsEndpoints` entry, discovers every pod through
`kubernetes_sd_configs` (role pod) and selects with relabelling: `keep` on the selector's labels, the
namespaces and the port name, then `namespace`/`pod`/`container`/`job`/`endpoint` labels, then
`podTargetLabels`, then the monitor's own `relabelings`. Here the discovery is a file (file SD) listing
every container port of every pod stored in kmock with the same `__meta_kubernetes_*` labels; the
selection and relabelling are the generated rules, run by Prometheus itself. So a selector matching no
pod, a port name the pod does not have or a relabelling reading a label it does not carry scrapes
nothing here, as in a cluster.

Not translated (the stacks use none; a monitor using one fails here): matchExpressions, jobLabel,
basic auth/TLS, metricRelabelings. Intervals are the test Prometheus's (1 s), not the monitor's.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

SUPPORTED_ENDPOINT_KEYS = {"port", "path", "interval", "relabelings", "scheme"}


def sanitized(name: str) -> str:
    """A label name as Kubernetes SD writes it: `cnpg.io/instanceRole` -> `cnpg_io_instanceRole`."""
    return re.sub(r"[^a-zA-Z0-9_]", "_", name)


def discovered(pods: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """File-SD target groups: one per container port of each pod, labelled as Kubernetes SD does."""
    groups = []
    for pod in pods:
        meta, spec = pod["metadata"], pod["spec"]
        labels = {
            "__meta_kubernetes_namespace": meta["namespace"],
            "__meta_kubernetes_pod_name": meta["name"],
            "__meta_kubernetes_pod_ip": pod["status"]["podIP"],
        }
        for key, value in (meta.get("labels") or {}).items():
            labels[f"__meta_kubernetes_pod_label_{sanitized(key)}"] = value
            labels[f"__meta_kubernetes_pod_labelpresent_{sanitized(key)}"] = "true"
        for container in spec["containers"]:
            for port in container.get("ports") or ():
                groups.append(
                    {
                        "targets": [f"{pod['status']['podIP']}:{port['containerPort']}"],
                        "labels": {
                            **labels,
                            "__meta_kubernetes_pod_container_name": container["name"],
                            "__meta_kubernetes_pod_container_port_name": port.get("name", ""),
                            "__meta_kubernetes_pod_container_port_number": str(port["containerPort"]),
                        },
                    }
                )
    return groups


def _relabeling(rule: dict[str, Any]) -> dict[str, Any]:
    names = {"sourceLabels": "source_labels", "targetLabel": "target_label"}
    out = {names.get(key, key): value for key, value in rule.items()}
    if "action" in out:
        out["action"] = str(out["action"]).lower()
    return out


def scrape_jobs(monitor: dict[str, Any], discovery_file: Path) -> list[dict[str, Any]]:
    """The scrape jobs of one PodMonitor, reading its targets from `discovery_file`."""
    meta, spec = monitor["metadata"], monitor["spec"]
    namespace, name = meta["namespace"], meta["name"]
    selector = spec.get("selector") or {}
    if set(selector) - {"matchLabels"}:
        raise NotImplementedError(f"PodMonitor {namespace}/{name}: only selector.matchLabels is translated")
    namespaces = spec.get("namespaceSelector") or {}
    names = None if namespaces.get("any") else namespaces.get("matchNames") or [namespace]
    selection: list[dict[str, Any]] = []
    if names is not None:
        choice = "|".join(re.escape(n) for n in names)
        selection.append(
            {"action": "keep", "source_labels": ["__meta_kubernetes_namespace"], "regex": f"({choice})"}
        )
    for key, value in (selector.get("matchLabels") or {}).items():
        label = sanitized(key)
        selection.append(
            {
                "action": "keep",
                "source_labels": [
                    f"__meta_kubernetes_pod_label_{label}",
                    f"__meta_kubernetes_pod_labelpresent_{label}",
                ],
                "regex": f"({re.escape(value)});true",
            }
        )
    target_labels = [
        {
            "source_labels": [f"__meta_kubernetes_pod_label_{sanitized(key)}"],
            "target_label": sanitized(key),
            "regex": "(.+)",
            "replacement": "${1}",
        }
        for key in spec.get("podTargetLabels") or ()
    ]
    jobs = []
    for index, endpoint in enumerate(spec["podMetricsEndpoints"]):
        unknown = set(endpoint) - SUPPORTED_ENDPOINT_KEYS
        if unknown:
            raise NotImplementedError(f"PodMonitor {namespace}/{name}: {sorted(unknown)} not translated")
        port = endpoint["port"]
        standard = [
            {"action": "keep", "source_labels": ["__meta_kubernetes_pod_container_port_name"], "regex": port},
            {"source_labels": ["__meta_kubernetes_namespace"], "target_label": "namespace"},
            {"source_labels": ["__meta_kubernetes_pod_container_name"], "target_label": "container"},
            {"source_labels": ["__meta_kubernetes_pod_name"], "target_label": "pod"},
            {"target_label": "job", "replacement": f"{namespace}/{name}"},
            {"target_label": "endpoint", "replacement": port},
        ]
        jobs.append(
            {
                "job_name": f"podMonitor/{namespace}/{name}/{index}",
                "metrics_path": endpoint.get("path", "/metrics"),
                "scheme": endpoint.get("scheme", "http"),
                "file_sd_configs": [{"files": [str(discovery_file)], "refresh_interval": "1s"}],
                "relabel_configs": [
                    *selection,
                    *standard,
                    *target_labels,
                    *(_relabeling(rule) for rule in endpoint.get("relabelings") or ()),
                ],
            }
        )
    return jobs


def write_discovery(path: Path, pods: list[dict[str, Any]]) -> None:
    """Atomically (Prometheus never reads half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(discovered(pods)))
    tmp.replace(path)
