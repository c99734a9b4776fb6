"""A cluster Function's default policy reads the gateway's series summed over every gateway replica.

Two real gateway processes, scraped by a real Prometheus, each holding calls for a function at zero
(its route has no instance): 3 queued at one, 2 at the other. The policy the operator builds for the
Function reads 5 (not the 3 or 2 one replica sees), so with `concurrency: 2` the engine asks for 3
replicas: past one, on calls no pod of the function has seen yet.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import math
from pathlib import Path
from typing import Any

import pytest
import requests

from scaleplane.functions import routes
from scaleplane.operator.manifests import functions
from scaleplane.scaling import specs
from tests.support import functioning

pytestmark = [pytest.mark.servers, pytest.mark.slow, pytest.mark.timeout(90)]
NS, NAME = "media", "resize"
HOLD = {"timeoutSeconds": 20, "queueWaitSeconds": 20}  # the calls stay queued while Prometheus looks


def call(url: str) -> int:
    with contextlib.suppress(requests.RequestException):  # the gateway is killed under it at the end
        return requests.post(f"{url}/v1/functions/{NS}/{NAME}", json={}, timeout=25).status_code
    return 0


def test_the_default_concurrency_query_sums_every_gateway_replica(tmp_path: Path, prometheus: Any) -> None:
    routes_dir = tmp_path / "routes"
    routes.write_endpoints(routes.route_file(routes_dir, routes.FunctionKey(NS, NAME)), [])  # at zero
    spec = functions.parse_function({"image": "img:1", "concurrency": 2, "maxReplicas": 10})
    policy = specs.parse_policy(functions.policy_spec(NAME, NS, spec))
    query = policy.metrics[0].query
    job = "gateway-replicas"
    gateways = [functioning.start_gateway(tmp_path, routes_dir, limits=HOLD) for _ in range(2)]
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=5)
    try:
        for gateway in gateways:
            gateway.wait_ready()
            prometheus.add_target(job, gateway.url.removeprefix("http://"))
        for gateway, held in zip(gateways, (3, 2), strict=True):
            for _ in range(held):
                pool.submit(call, gateway.url)
        by_replica = f'sum by (instance) (scaleplane_gateway_queued_requests{{function="{NAME}"}})'
        prometheus.wait_for(f"count({by_replica} > 0)", lambda v: v == 2)  # both scraped, both holding
        assert sorted(v for _, v in prometheus.query_vector(by_replica)) == [2, 3]
        total = prometheus.wait_for(query, lambda v: v == 5)
        assert math.ceil(total / policy.metrics[0].target.value) == 3  # AverageValue 2: 3 replicas
    finally:
        for gateway in gateways:
            with contextlib.suppress(Exception):
                prometheus.remove_target(job, gateway.url.removeprefix("http://"))
            gateway.kill()
        pool.shutdown(wait=True, cancel_futures=True)
