"""A Function end to end: the operator makes its Deployment, Service and ScalingPolicy, scales it on
requests in flight (real Prometheus, real exporter), lets it go to zero when idle, and the children
go with the Function when it is deleted (Kubernetes' garbage collector, emulated by the kmock cluster).
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest

from scaleplane.operator.manifests import functions
from scaleplane.scaling import specs
from tests.support import operating
from tests.support.operating import DEPLOYMENT, FUNCTION, POLICY
from tests.support.waiting import eventually

pytestmark = [pytest.mark.servers, pytest.mark.slow]
SERVICE = "v1/services"


async def test_function_gets_children_scales_on_concurrency_and_goes_to_zero(prometheus: Any) -> None:
    ns, name = "team-fn", "resize-image"
    exp = operating.Exporter(functions.INFLIGHT_METRIC, ("namespace", "function"))
    job = "op-function"
    prometheus.add_target(job, exp.address)
    try:
        exp.set(25, namespace=ns, function=name)
        query = f'sum({functions.INFLIGHT_METRIC}{{namespace="{ns}",function="{name}"}})'
        await asyncio.to_thread(prometheus.wait_for, query, lambda v: v == 25)
        async with operating.cluster_api() as (cluster, url):
            cluster.put_object(
                FUNCTION,
                {
                    "apiVersion": "scaleplane.io/v1alpha1",
                    "kind": "Function",
                    "metadata": {"name": name, "namespace": ns},
                    "spec": {
                        "image": "ghcr.io/acme/resize:1.4",
                        "port": 9000,
                        "env": [{"name": "QUALITY", "value": "80"}],
                        "concurrency": 10,
                        "minReplicas": 0,
                        "maxReplicas": 6,
                        "idleSeconds": 2,
                        "scaleDownWindowSeconds": 0,
                        "group": "media",
                    },
                },
            )
            async with operating.running_operator(url, prometheus.url, namespace=ns):
                policy = await eventually(lambda: cluster.read_object(POLICY, ns, name))
                deployment = cluster.read_object(DEPLOYMENT, ns, name)
                service = cluster.read_object(SERVICE, ns, name)
                owner_uid = cluster.read_object(FUNCTION, ns, name)["metadata"]["uid"]
                for child in (policy, deployment, service):
                    assert child is not None
                    assert child["metadata"]["ownerReferences"][0]["uid"] == owner_uid
                    assert child["metadata"]["labels"][functions.GROUP_LABEL] == "media"
                container = deployment["spec"]["template"]["spec"]["containers"][0]
                assert container["image"] == "ghcr.io/acme/resize:1.4"
                assert container["ports"][0]["containerPort"] == 9000
                assert service["spec"]["ports"][0]["targetPort"] == 9000
                spec = specs.parse_policy(policy["spec"])
                fn_spec = functions.parse_function(cluster.read_object(FUNCTION, ns, name)["spec"])
                assert spec.min_replicas == 0 and spec.metrics[0].query == functions.query(name, ns, fn_spec)

                # 25 in flight, 10 per replica: 3 replicas (woken from the initial 0 by activation).
                await eventually(lambda: cluster.read_object(DEPLOYMENT, ns, name)["spec"]["replicas"] == 3)
                exp.set(0, namespace=ns, function=name)
                await eventually(
                    lambda: cluster.read_object(DEPLOYMENT, ns, name)["spec"]["replicas"] == 0, timeout=25
                )
                fn_status = cluster.read_object(FUNCTION, ns, name).get("status") or {}
                assert fn_status.get("scalingPolicy") == name

                # Delete the Function: the garbage collector takes its children.
                async with aiohttp.ClientSession() as session:
                    path = f"{url}/apis/scaleplane.io/v1alpha1/namespaces/{ns}/functions/{name}"
                    async with session.delete(path) as rsp:
                        assert rsp.status == 200
                await eventually(lambda: cluster.read_object(DEPLOYMENT, ns, name) is None)
                assert cluster.read_object(SERVICE, ns, name) is None
                assert cluster.read_object(POLICY, ns, name) is None
    finally:
        prometheus.remove_target(job, exp.address)
        exp.close()
