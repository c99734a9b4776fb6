"""Events and status writes go through the one retry mechanism (control.retrying) against kmock."""

from __future__ import annotations

from scaleplane.operator import posting, recording
from tests.support import operating
from tests.support.kmock_cluster import kube_client

REF = {
    "apiVersion": "scaleplane.io/v1alpha1",
    "kind": "ScalingPolicy",
    "metadata": {"name": "p", "namespace": "ns"},
}


async def no_sleep(_: float) -> None:
    return None


async def test_an_event_refused_with_503_is_posted_on_the_retry_and_a_422_is_not_retried() -> None:
    async with operating.cluster_api() as (cluster, url):
        api = kube_client(url)
        try:
            cluster.inject("POST", "/events", status=503, times=1)
            assert await posting.post(
                api, REF, kind="Normal", reason="Scaled", message="1 -> 2", at=0, sleep=no_sleep
            )
            cluster.inject("POST", "/events", status=422, times=1)
            assert not await posting.post(
                api, REF, kind="Normal", reason="Scaled", message="x", at=0, sleep=no_sleep
            )
            posts = [r for r in cluster if str(r.method.value).upper() == "POST"]
            assert len(posts) == 3  # 503 then success; 422 once
        finally:
            await api.close()


async def test_a_status_patch_rides_out_a_conflict() -> None:
    async with operating.cluster_api() as (cluster, url):
        cluster.put_object(operating.POLICY, {**REF, "spec": {}})
        api = kube_client(url)
        try:
            cluster.inject("PATCH", "/scalingpolicies/p/status", status=409, times=2)
            await recording.patch_status(api, "ns", "p", {"observedGeneration": 1}, sleep=no_sleep)
            assert cluster.read_object(operating.POLICY, "ns", "p")["status"] == {"observedGeneration": 1}
        finally:
            await api.close()
