"""operator/gateway.yaml: the settings it mounts are valid, the pieces fit together, and a hook is signed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
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


def test_a_hook_the_gateway_cannot_sign_for_is_refused_when_its_settings_are_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SCALEPLANE_TEST_GATEWAY_HOOK_KEY", raising=False)
    path = tmp_path / "gateway.yaml"
    hook = {"url": "http://127.0.0.1:9/in", "secretEnv": "SCALEPLANE_TEST_GATEWAY_HOOK_KEY"}
    path.write_text(yaml.safe_dump({"routes": "routes", "hooks": [hook]}))
    with pytest.raises(settings.SettingsError) as caught:
        settings.load(path)
    assert str(caught.value) == (
        f"{path}: hooks.0 (http://127.0.0.1:9/in): secretEnv SCALEPLANE_TEST_GATEWAY_HOOK_KEY is not set; "
        "a hook must be signed"
    )
    monkeypatch.setenv("SCALEPLANE_TEST_GATEWAY_HOOK_KEY", "k3y")
    [loaded] = settings.load(path).hooks
    assert loaded.key() == b"k3y"
