"""A Function's children: valid bodies, the documented default query, replicas left to the policy."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from scaleplane import images
from scaleplane.operator.manifests import functions
from scaleplane.scaling import specs


def test_children_of_a_concurrency_function() -> None:
    spec = functions.parse_function({"image": "img:1", "concurrency": 5, "maxReplicas": 4, "idleSeconds": 30})
    policy = specs.parse_policy(functions.policy_spec("fn", "ns", spec))
    assert policy.min_replicas == 0 and policy.max_replicas == 4 and policy.cooldown_seconds == 30
    metric = policy.metrics[0]
    assert metric.query == (  # the gateway's in-flight and queued calls, over all its replicas
        'sum({__name__=~"scaleplane_gateway_(inflight|queued)_requests",namespace="ns",function="fn"})'
    )
    assert metric.target.type == "AverageValue" and metric.target.value == 5
    deployment = functions.deployment("fn", "ns", spec)
    assert deployment["spec"]["replicas"] == 0
    assert deployment["spec"]["selector"]["matchLabels"] == {functions.FUNCTION_LABEL: "fn"}
    assert "replicas" not in functions.template_patch("fn", spec)["spec"]
    assert functions.service("fn", "ns", spec)["spec"]["ports"][0]["targetPort"] == 8080


def test_rate_functions_need_a_rate_target() -> None:
    spec = functions.parse_function({"image": "img:1", "metric": "rate", "rateTarget": 50})
    assert "rate(scaleplane_function_requests_total" in functions.query("fn", "ns", spec)
    with pytest.raises(specs.PolicyError, match="rateTarget"):
        functions.parse_function({"image": "img:1", "metric": "rate"})
    with pytest.raises(specs.PolicyError, match=r"spec.port: must be 1..65535, was 70000"):
        functions.parse_function({"image": "img:1", "port": 70000})


def test_a_source_function_runs_the_base_runtime_on_its_configmap() -> None:
    spec = functions.parse_function(
        {"source": {"configMap": "greet-code", "version": "v2"}, "port": 8080, "minReplicas": 0}
    )
    deployment = functions.deployment("greet", "team-a", spec)
    pod = deployment["spec"]["template"]["spec"]
    [container] = pod["containers"]
    assert container["image"] == images.OPERATOR  # the operator's own image, which has scaleplane
    assert container["command"] == ["python", "-m", "scaleplane.functions.hosting"]
    assert container["args"][:2] == ["--handler", "/function/handler.py:main"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert pod["volumes"][0]["configMap"] == {
        "name": "greet-code", "items": [{"key": "handler.py", "path": "handler.py"}],
    }  # fmt: skip
    assert deployment["spec"]["template"]["metadata"]["annotations"] == {"scaleplane.io/source-version": "v2"}


@pytest.mark.servers
def test_the_source_functions_command_really_serves_the_handler(tmp_path: Path) -> None:
    """The container's command and args, run here with the ConfigMap's file where the mount would be."""
    import shutil
    import subprocess

    import requests

    from tests.support import functioning
    from tests.support.endpoints import free_port

    port = free_port()
    spec = functions.parse_function({"source": {"configMap": "c", "key": "greet.py"}, "port": port})
    [container] = functions.deployment("greet", "team-a", spec)["spec"]["template"]["spec"]["containers"]
    shutil.copy(functioning.HANDLERS / "greet.py", tmp_path / "greet.py")
    args = [
        a.replace(functions.SOURCE_MOUNT, str(tmp_path)).replace("0.0.0.0", "127.0.0.1")
        for a in container["args"]
    ]
    argv = [sys.executable, *container["command"][1:], *args]
    server = subprocess.Popen(
        argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                if requests.get(f"http://127.0.0.1:{port}/readyz", timeout=0.5).status_code == 200:
                    break
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline and server.poll() is None, "the runtime did not come up"
            time.sleep(0.05)
        answer = requests.post(f"http://127.0.0.1:{port}/invoke", json={"name": "Ada"}, timeout=5)
        assert answer.json()["result"]["text"] == "hello Ada"
    finally:
        server.kill()
        server.wait()


def test_a_function_spec_is_read_as_strictly_as_a_policy() -> None:
    with pytest.raises(specs.PolicyError, match=r"spec.port: must be an integer, was '8080' \(write 8080"):
        functions.parse_function({"image": "img:1", "port": "8080"})
    with pytest.raises(specs.PolicyError, match=r"spec.imgae: unknown key \(did you mean 'image'\?"):
        functions.parse_function({"imgae": "img:1"})
