"""A source-only Function runs the image the operator is told to run it on (a registry mirror's), not
the default one: the operator is started with SCALEPLANE_FUNCTION_RUNTIME_IMAGE, as the stack starts
it when `scaleplane:operator.image` is set, and the Deployment it creates in the (kmock) cluster, then
its update after the Function's source changes, both name that image."""

from __future__ import annotations

from typing import Any

import pytest

from scaleplane.operator.wiring import settings
from tests.support import operating
from tests.support.operating import DEPLOYMENT, FUNCTION
from tests.support.waiting import eventually

pytestmark = [pytest.mark.servers, pytest.mark.slow]
MIRROR = "registry.example.com:5000/mirror/scaleplane/operator:0.1.0"


def _image(cluster: Any, ns: str, name: str) -> str | None:
    deployment = cluster.read_object(DEPLOYMENT, ns, name)
    return deployment["spec"]["template"]["spec"]["containers"][0]["image"] if deployment else None


def _version(cluster: Any, ns: str, name: str) -> str | None:
    template = cluster.read_object(DEPLOYMENT, ns, name)["spec"]["template"]
    return (template["metadata"].get("annotations") or {}).get("scaleplane.io/source-version")


async def test_a_source_function_runs_the_operators_runtime_image(prometheus: Any) -> None:
    ns, name = "team-mirror", "greet"
    function = {
        "apiVersion": "scaleplane.io/v1alpha1",
        "kind": "Function",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"source": {"configMap": "greet-code", "version": "v1"}, "port": 8080, "minReplicas": 0},
    }
    env = {"SCALEPLANE_FUNCTION_RUNTIME_IMAGE": MIRROR}
    async with operating.cluster_api() as (cluster, url):
        cluster.put_object(FUNCTION, function)
        async with operating.running_operator(url, prometheus.url, namespace=ns, env=env):
            assert await eventually(lambda: _image(cluster, ns, name)) == MIRROR
            # a new version of the source (as `kubectl patch` sends it): the template is patched, same image
            path = f"/apis/scaleplane.io/v1alpha1/namespaces/{ns}/functions/{name}"
            await operating.merge_patch(url, path, {"spec": {"source": {"version": "v2"}}})
            await eventually(lambda: _version(cluster, ns, name) == "v2")
            assert _image(cluster, ns, name) == MIRROR


def test_an_unpinned_runtime_image_stops_the_operator_at_start() -> None:
    with pytest.raises(settings.SettingsError, match=r"SCALEPLANE_FUNCTION_RUNTIME_IMAGE: .*was 'mirror/op'"):
        settings.from_env({"SCALEPLANE_FUNCTION_RUNTIME_IMAGE": "mirror/op"})
    assert settings.from_env({}).function_runtime_image.startswith("ghcr.io/scaleplane/operator:")
