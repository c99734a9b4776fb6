"""The RDS read Service on kmock: created once, its EndpointSlice kept to the ready replicas' IPs,
a failed write told and tried again, a name that does not resolve left out."""

from __future__ import annotations

from typing import Any

import pytest

from scaleplane.targets import readendpoints
from tests.support import operating
from tests.support.kmock_cluster import kube_client

pytestmark = pytest.mark.servers
SLICES = "discovery.k8s.io/v1/endpointslices"
DNS = {"a.rds.example": ["10.0.1.5"], "b.rds.example": ["10.0.2.7"]}


def ready(*hosts: str) -> list[dict[str, Any]]:
    return [{"DBInstanceIdentifier": host.split(".")[0], "Endpoint": {"Address": host}} for host in hosts]


def addresses(cluster: Any) -> list[str] | None:
    found = cluster.read_object(SLICES, "team-a", "orders-read")
    return None if found is None else [ip for e in found["endpoints"] for ip in e["addresses"]]


async def test_the_slice_follows_the_ready_set_and_survives_a_failed_write(caplog) -> None:
    async with operating.cluster_api() as (cluster, url):
        api = kube_client(url)
        try:
            service = readendpoints.ReadService(api, "team-a", "orders", resolve=lambda h: DNS.get(h, []))
            cluster.inject("POST", "/endpointslices", status=500)
            await service.publish(ready("a.rds.example", "b.rds.example"))  # told, not raised
            assert addresses(cluster) is None and "not updated" in caplog.text
            await service.publish(ready("a.rds.example", "b.rds.example"))
            assert addresses(cluster) == ["10.0.1.5", "10.0.2.7"]
            found = cluster.read_object(SLICES, "team-a", "orders-read")
            assert found["metadata"]["labels"]["kubernetes.io/service-name"] == "orders-read"
            assert found["addressType"] == "IPv4"
            spec = cluster.read_object("v1/services", "team-a", "orders-read")["spec"]
            assert "selector" not in spec and spec["ports"][0]["port"] == 5432

            await service.publish(
                ready("b.rds.example", "gone.rds.example")
            )  # one lags, one does not resolve
            assert addresses(cluster) == ["10.0.2.7"] and "does not resolve" in caplog.text
            # A new operator (a restart) finds both objects there already: it patches, never fails.
            again = readendpoints.ReadService(api, "team-a", "orders", resolve=lambda h: DNS.get(h, []))
            await again.publish([])
            assert addresses(cluster) == []
        finally:
            await api.close()
