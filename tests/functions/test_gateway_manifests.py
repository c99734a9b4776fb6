"""operator/gateway.yaml: the settings it mounts are valid, and the pieces fit together."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from scaleplane.functions.gateway import settings

MANIFEST = Path(__file__).resolve().parents[2] / "operator" / "gateway.yaml"


def documents() -> dict[str, dict[str, Any]]:
    return {d["kind"]: d for d in yaml.safe_load_all(MANIFEST.read_text()) if d}


def test_the_mounted_settings_are_valid_and_the_probes_fit_them() -> None:
    docs = documents()
    config = settings.GatewaySettings.model_validate(
        yaml.safe_load(docs["ConfigMap"]["data"]["gateway.yaml"])
    )
    assert config.kubernetes is not None and config.routes is None
    pod = docs["Deployment"]["spec"]["template"]["spec"]
    [container] = pod["containers"]
    assert container["args"] == ["fn", "gateway", "--config", "/etc/scaleplane/gateway.yaml"]
    assert container["ports"][0]["containerPort"] == config.port
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert pod["terminationGracePeriodSeconds"] > config.limits.drain_seconds, (
        "the drain must end before the kill"
    )
    assert pod["volumes"][0]["configMap"]["name"] == docs["ConfigMap"]["metadata"]["name"]


def test_the_role_is_bound_to_the_pods_account_and_the_service_selects_the_pods() -> None:
    docs = documents()
    account = docs["Deployment"]["spec"]["template"]["spec"]["serviceAccountName"]
    assert docs["ServiceAccount"]["metadata"]["name"] == account
    assert docs["ClusterRoleBinding"]["subjects"][0]["name"] == account
    assert docs["ClusterRoleBinding"]["roleRef"]["name"] == docs["ClusterRole"]["metadata"]["name"]
    labels = docs["Deployment"]["spec"]["template"]["metadata"]["labels"]
    assert docs["Service"]["spec"]["selector"].items() <= labels.items()
    assert not any("*" in rule["verbs"] for rule in docs["ClusterRole"]["rules"])
