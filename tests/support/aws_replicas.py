"""What the RDS and Aurora end-to-end tests share: the planned read-replica policy, moto's clients,
the database's load in a real Prometheus, the lag RDS/Aurora would publish, and the policy's status.

    namespace, body = planned_policy({"database": {"engine": "aurora-postgresql"}})
    rds_client, cloudwatch = moto_clients(moto_url)
    async with committing(prometheus, "job", [{"server": "r1"}]), playing_lag(cloudwatch, ...):
        ...
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import boto3

from tests.support import operating, planned_stacks
from tests.support.operating import POLICY

# The operator's AWS settings for moto (moto checks no credentials); AWS_ENDPOINT_URL is the test's.
OPERATOR_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "SCALEPLANE_AWS_REGION": "us-east-1",
}
# Per exporter series. Far over what 5 replicas serve at 500 each, because rate()[2m] of a series
# younger than 2 minutes reads low (Prometheus extrapolates a young series only half an interval
# back): the policy then asks for its maxReplicas (5) within seconds, and for exactly that.
COMMITS_PER_SECOND = 50_000.0


def planned_policy(overrides: dict[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
    """aws-prod's (with `overrides`) read-replica ScalingPolicy as the plan deploys it: (namespace, body)."""
    for resource in planned_stacks.planned("aws-prod", overrides).by_type(
        "kubernetes:scaleplane.io/v1alpha1:ScalingPolicy"
    ):
        if resource.inputs["metadata"]["name"] == "read-replicas":
            meta = resource.inputs["metadata"]
            return meta["namespace"], operating.policy(
                meta["name"], meta["namespace"], resource.inputs["spec"]
            )
    raise AssertionError("aws-prod plans no read-replicas policy")


def moto_clients(url: str) -> tuple[Any, Any]:
    """(rds, cloudwatch) boto3 clients on the moto_server at `url`, as the test's own hands."""
    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    )
    return session.client("rds", endpoint_url=url), session.client("cloudwatch", endpoint_url=url)


@contextlib.asynccontextmanager
async def playing_lag(
    cloudwatch: Any,
    metric: str,
    members: Callable[[], list[str]],
    lagging: set[str],
    lags: tuple[float, float],
) -> AsyncIterator[None]:
    """Publish `metric` for every one of `members()` every 0.3 s, as RDS/Aurora would: lags[0] for
    each, lags[1] (over the bound) for those in `lagging`. moto's RDS publishes no metrics."""
    from tests.support import moto

    async def play() -> None:
        while True:
            names = await asyncio.to_thread(members)
            values = {name: lags[1] if name in lagging else lags[0] for name in names}
            await asyncio.to_thread(moto.publish_lag, cloudwatch, metric, values)
            await asyncio.sleep(0.3)

    task = asyncio.create_task(play())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@contextlib.asynccontextmanager
async def committing(prometheus: Any, job: str, series: list[dict[str, str]]) -> AsyncIterator[None]:
    """postgres_exporter's `pg_stat_database_xact_commit{datname="app",role="replica",...}`, one series
    per entry of `series` (its further labels, as the stack's PodMonitor adds them), each growing at
    COMMITS_PER_SECOND. A gauge, not a prometheus_client Counter: that would publish the name with
    `_total`, which postgres_exporter does not."""
    names = ("datname", "role", *sorted(series[0]))
    exporter = operating.Exporter("pg_stat_database_xact_commit", names)
    started = time.monotonic()

    async def commit() -> None:
        while True:
            for labels in series:
                value = (time.monotonic() - started) * COMMITS_PER_SECOND
                exporter.set(value, datname="app", role="replica", **labels)
            await asyncio.sleep(0.2)

    task = asyncio.create_task(commit())
    prometheus.add_target(job, exporter.address)
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        prometheus.remove_target(job, exporter.address)
        exporter.close()


def policy_status(cluster: Any, namespace: str) -> dict[str, Any]:
    found = cluster.read_object(POLICY, namespace, "read-replicas") or {}
    return dict(found.get("status") or {})


def error_with(cluster: Any, namespace: str, text: str) -> str | None:
    error = str(policy_status(cluster, namespace).get("error") or "")
    return error if text in error else None


def settled(cluster: Any, namespace: str, current: int) -> bool:
    """The last tick ran at `current` replicas and went through (no error in status)."""
    status = policy_status(cluster, namespace)
    return (
        status.get("currentReplicas") == current
        and status.get("desiredReplicas") == current
        and not status.get("error")
    )


async def merge_patch_policy(api_url: str, namespace: str, body: dict[str, Any]) -> None:
    """What `kubectl patch scalingpolicy read-replicas --type merge` sends."""
    path = f"/apis/scaleplane.io/v1alpha1/namespaces/{namespace}/scalingpolicies/read-replicas"
    await operating.merge_patch(api_url, path, body)
