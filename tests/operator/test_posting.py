"""Events aggregated as Kubernetes does, against the kmock API: a repeat updates count and
lastTimestamp (at most once per interval), an Event the API lost is posted anew with the repeats it
had not written, and an API that forbids updates is said once while repeats are still counted."""

from __future__ import annotations

from typing import Any

import kopf

from scaleplane.operator import kubeapi, posting
from tests.support import operating

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
        api = kubeapi.KubeApi(kopf.ConnectionInfo(server=url))
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
        api = kubeapi.KubeApi(kopf.ConnectionInfo(server=url))
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
