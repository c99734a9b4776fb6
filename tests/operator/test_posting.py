"""Events aggregated as Kubernetes does and retried by the one retry mechanism (control.retrying),
against the kmock API: a repeat updates count and
lastTimestamp (at most once per interval), an Event the API lost is posted anew with the repeats it
had not written, and an API that forbids updates is said once while repeats are still counted."""

from __future__ import annotations

from typing import Any

from scaleplane.operator.records import posting, recording
from tests.support import operating
from tests.support.kmock_cluster import kube_client

REF = {
    "apiVersion": "scaleplane.io/v1alpha1",
    "kind": "ScalingPolicy",
    "metadata": {"name": "p", "namespace": "team", "uid": "u-1"},
}
T0 = 1_800_000_000.0


def _events(cluster: Any) -> list[dict[str, Any]]:
    return [o.raw for (res, _, _), o in cluster.objects.items() if res.plural == "events" and not o.deleted]


async def test_repeats_count_up_one_event_at_most_once_per_interval() -> None:
    async with operating.cluster_api() as (cluster, url):
        api = kube_client(url)
        poster = posting.EventPoster(api, interval=60)
        try:
            for tick in range(5):  # five ticks 15 s apart, the same error each time
                await poster.post(
                    REF, kind="Warning", reason="ScalingFailed", message="404", at=T0 + 15 * tick
                )
                await poster.flush(T0 + 15 * tick)
            await poster.post(REF, kind="Warning", reason="ScalingFailed", message="other", at=T0 + 75)
        finally:
            await api.close()
        [first, other] = sorted(_events(cluster), key=lambda e: e["message"])
        # Written at 0 s (count 1) and at 60 s (count 5, the repeats of 15, 30, 45 and 60 s).
        assert (first["message"], first["count"]) == ("404", 5)
        assert first["firstTimestamp"] == posting._stamp(T0) and first["lastTimestamp"] == posting._stamp(
            T0 + 60
        )
        assert (other["message"], other["count"]) == ("other", 1)  # another message: its own Event


async def test_an_event_the_api_lost_is_posted_anew_and_a_forbidden_update_is_said_once() -> None:
    async with operating.cluster_api() as (cluster, url):
        api = kube_client(url)
        poster = posting.EventPoster(api, interval=0)
        try:
            assert await poster.post(REF, kind="Normal", reason="Scaled", message="1 -> 2", at=T0)
            [gone] = _events(cluster)
            await api.delete(f"/api/v1/namespaces/team/events/{gone['metadata']['name']}")  # expired
            assert await poster.post(REF, kind="Normal", reason="Scaled", message="1 -> 2", at=T0 + 1)
            [anew] = _events(cluster)
            assert anew["metadata"]["name"] != gone["metadata"]["name"] and anew["count"] == 1
            assert anew["involvedObject"]["uid"] == "u-1"

            cluster.inject("PATCH", "/events/", status=403, times=1)
            assert not await poster.post(REF, kind="Normal", reason="Scaled", message="1 -> 2", at=T0 + 2)
            assert not poster.can_update
            assert await poster.post(REF, kind="Normal", reason="Scaled", message="1 -> 2", at=T0 + 3)
        finally:
            await api.close()
        assert [e["count"] for e in _events(cluster)] == [1]  # counted in memory, no more requests


async def no_sleep(_: float) -> None:
    return None


async def test_an_event_refused_with_503_is_posted_on_the_retry_and_a_422_is_not_retried() -> None:
    async with operating.cluster_api() as (cluster, url):
        api = kube_client(url)
        poster = posting.EventPoster(api, sleep=no_sleep)
        try:
            cluster.inject("POST", "/events", status=503, times=1)
            assert await poster.post(REF, kind="Normal", reason="Scaled", message="1 -> 2", at=T0)
            cluster.inject("POST", "/events", status=422, times=1)
            assert not await poster.post(REF, kind="Normal", reason="Scaled", message="x", at=T0)
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
            await recording.patch_status(api, "team", "p", {"observedGeneration": 1}, sleep=no_sleep)
            assert cluster.read_object(operating.POLICY, "team", "p")["status"] == {"observedGeneration": 1}
        finally:
            await api.close()
