"""A Function at zero in a (kmock) cluster woken by the gateway's signal, not by the next tick.

Real processes and servers: the operator (KopfRunner) on a kmock API server, a real Prometheus with an
exporter of the Function's per-replica series (at 0), and the real gateway process in its cluster home
(routes from EndpointSlices, wake by annotating the Function). The test plays the kubelet: when the
Deployment asks for a replica, it starts a function runtime process and publishes it in an
EndpointSlice of the Function's Service, as the EndpointSlice controller would.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml

from scaleplane.functions.gateway import cluster as gateway_cluster
from scaleplane.operator.manifests import functions
from tests.support import endpoints, functioning, operating
from tests.support.operating import DEPLOYMENT, FUNCTION, POLICY
from tests.support.waiting import eventually

pytestmark = [pytest.mark.servers, pytest.mark.slow]
SLICES = "discovery.k8s.io/v1/endpointslices"
MANIFEST = Path(__file__).resolve().parents[2] / "operator" / "gateway.yaml"


def gateway_rules() -> set[tuple[str, str, str]]:
    role = next(d for d in yaml.safe_load_all(MANIFEST.read_text()) if d and d["kind"] == "ClusterRole")
    return {
        (g, r, v)
        for rule in role["rules"]
        for g in rule["apiGroups"]
        for r in rule["resources"]
        for v in rule["verbs"]
    }


def _events(kube: Any, reason: str) -> list[dict[str, Any]]:
    return [
        o.raw
        for (res, _, _), o in list(kube.objects.items())
        if res.plural == "events" and not o.deleted and o.raw.get("reason") == reason
    ]


async def test_a_function_at_zero_is_woken_by_the_gateway(prometheus: Any, tmp_path: Path) -> None:
    ns, name, tick = "team-wake", "greet", 5.0
    exp = operating.Exporter(functions.INFLIGHT_METRIC, ("namespace", "function"))
    prometheus.add_target("op-wake", exp.address)
    started: list[functioning.Server] = []
    try:
        exp.set(0, namespace=ns, function=name)
        query = f'sum({functions.INFLIGHT_METRIC}{{namespace="{ns}",function="{name}"}})'
        await asyncio.to_thread(prometheus.wait_for, query, lambda v: v == 0)
        async with operating.cluster_api() as (kube, url):
            kube.resources[SLICES] = {
                "namespaced": True, "verbs": operating.ALL_VERBS,
                "kind": "EndpointSlice", "singular": "endpointslice",
            }  # fmt: skip
            kube.put_object(
                FUNCTION,
                {
                    "apiVersion": "scaleplane.io/v1alpha1",
                    "kind": "Function",
                    "metadata": {"name": name, "namespace": ns},
                    "spec": {
                        "image": "ghcr.io/acme/greet:1",
                        "minReplicas": 0,
                        "maxReplicas": 3,
                        "idleSeconds": 60,
                    },
                },
            )
            receiver = await endpoints.HookReceiver().__aenter__()
            hooks = {"SCALEPLANE_HOOKS": json.dumps([{"url": receiver.url, "secret": "e2e-hook-secret"}])}
            async with operating.running_operator(url, prometheus.url, namespace=ns, tick=tick, env=hooks):
                await eventually(lambda: kube.read_object(POLICY, ns, name))
                assert kube.read_object(DEPLOYMENT, ns, name)["spec"]["replicas"] == 0
                await asyncio.sleep(tick + 1)  # a tick has seen it idle at zero
                assert kube.read_object(DEPLOYMENT, ns, name)["spec"]["replicas"] == 0

                async def kubelet() -> None:
                    while not started:
                        deployment = kube.read_object(DEPLOYMENT, ns, name) or {}
                        if deployment.get("spec", {}).get("replicas", 0) >= 1:
                            scaled_at.append(time.monotonic())
                            server = functioning.start_runtime(
                                f"{functioning.HANDLERS / 'greet.py'}:main", tmp_path
                            )
                            started.append(server)
                            await asyncio.to_thread(server.wait_ready)
                            port = int(server.url.rpartition(":")[2])
                            kube.put_object(SLICES, {
                                "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                                "metadata": {"name": f"{name}-x1", "namespace": ns,
                                             "labels": {gateway_cluster.SERVICE_LABEL: name}},
                                "addressType": "IPv4",
                                "endpoints": [{"addresses": ["127.0.0.1"], "conditions": {"ready": True}}],
                                "ports": [{"name": "http", "port": port, "protocol": "TCP"}],
                            })  # fmt: skip
                        await asyncio.sleep(0.05)

                scaled_at: list[float] = []
                playing = asyncio.create_task(kubelet())
                gw = functioning.start_gateway(
                    tmp_path,
                    tmp_path / "unused",
                    kubernetes={"namespaces": [ns], "server": url, "pollSeconds": 0.2},
                )
                started_gateway = gw
                try:
                    await asyncio.to_thread(gw.wait_ready)
                    sent = time.monotonic()
                    async with (
                        aiohttp.ClientSession() as session,
                        session.post(f"{gw.url}/v1/functions/{ns}/{name}", json={"name": "Ada"}) as answer,
                    ):
                        body = await answer.json()
                        assert answer.status == 200, body
                    assert body["result"]["text"] == "hello Ada"
                    woke = scaled_at[0] - sent
                    assert woke < tick - 1, (
                        f"scaled {woke:.2f} s after the call: the wake did not wait for a tick"
                    )
                    fn = kube.read_object(FUNCTION, ns, name)
                    assert gateway_cluster.WAKE_ANNOTATION in fn["metadata"]["annotations"]
                    woken = await eventually(lambda: _events(kube, "Woken"))
                    assert "0 -> 1 replicas" in woken[0]["message"]

                    woken_events = await eventually(
                        lambda: [
                            e
                            for _, b in receiver.received
                            if (e := json.loads(b))["type"].endswith("woken.v1")
                        ]
                    )
                    assert woken_events[0]["data"]["to"] == 1 and woken_events[0]["subject"] == f"{ns}/{name}"
                    await asyncio.sleep(tick * 2)  # the loop keeps the replica: the wake marked it active
                    assert kube.read_object(DEPLOYMENT, ns, name)["spec"]["replicas"] == 1
                finally:
                    playing.cancel()
                    started_gateway.kill()
            await receiver.__aexit__(None, None, None)
            # Least privilege: the gateway's requests are exactly what operator/gateway.yaml allows.
            made = [r for r in kube if r.headers.get("User-Agent") == gateway_cluster.USER_AGENT]
            used = {v for request in made if (v := functioning.rbac_verb(request)) is not None}
            assert used == gateway_rules(), f"used {sorted(used)}, allowed {sorted(gateway_rules())}"
    finally:
        for server in started:
            server.kill()
        prometheus.remove_target("op-wake", exp.address)
        exp.close()
