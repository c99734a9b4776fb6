"""kopf logs in with the same credentials as our client, the token as of now (operator.wiring.connecting)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from scaleplane.kube import credentials
from scaleplane.operator.wiring import connecting
from tests.support import operating


def test_a_token_file_is_read_at_each_login(tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("one\n")
    config = operating.write_kubeconfig(tmp_path / "config", "http://127.0.0.1:1", {"tokenFile": str(token)})
    found = credentials.locate({"KUBECONFIG": str(config)}, service_account=tmp_path)
    assert connecting.connection_info(found).token == "one"
    token.write_text("two\n")  # rotated: kopf's next login (after a 401) gets the new one
    assert connecting.connection_info(found).token == "two"


def test_an_exec_plugin_token_carries_its_expiry(tmp_path: Path) -> None:
    plugin = tmp_path / "plugin.py"
    status = {"token": "eks-token", "expirationTimestamp": "2030-01-01T00:15:00Z"}
    credential = {
        "apiVersion": "client.authentication.k8s.io/v1beta1",
        "kind": "ExecCredential",
        "status": status,
    }
    plugin.write_text(f"print({json.dumps(json.dumps(credential))})")
    user = {
        "exec": {
            "apiVersion": "client.authentication.k8s.io/v1beta1",
            "command": sys.executable,
            "args": [str(plugin)],
        }
    }
    config = operating.write_kubeconfig(tmp_path / "config", "https://127.0.0.1:1", user)
    info = connecting.connection_info(
        credentials.locate({"KUBECONFIG": str(config)}, service_account=tmp_path)
    )
    assert info.token == "eks-token"
    assert info.expiration is not None and info.expiration.isoformat() == "2030-01-01T00:15:00+00:00"


def test_a_failing_exec_plugin_is_named(tmp_path: Path) -> None:
    user = {"exec": {"apiVersion": "client.authentication.k8s.io/v1beta1", "command": str(tmp_path / "nope")}}
    config = operating.write_kubeconfig(tmp_path / "config", "https://127.0.0.1:1", user)
    found = credentials.locate({"KUBECONFIG": str(config)}, service_account=tmp_path)
    with pytest.raises(
        credentials.NoCredentials, match=f"^exec plugin {tmp_path / 'nope'}: FileNotFoundError"
    ):
        connecting.connection_info(found)
