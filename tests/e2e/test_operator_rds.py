"""aws-prod's read-replica policy scales RDS replicas through the operator's own loop.

Everything the user deploys is real here: the ScalingPolicy is the one `scaleplane plan` builds for
aws-prod (its query, target, bounds and behavior, unedited until the test edits it as a user would),
the operator is the real process (kopf, the loop, its settings from the environment) on kmock, the
query is answered by a real Prometheus scraping postgres_exporter-shaped series, and the replicas
are created and deleted in a real moto_server through the operator's boto3 clients.

What moto cannot show, and what the test does instead:
  * RDS publishes replica lag to CloudWatch; moto's RDS publishes nothing. The test plays RDS: it
    puts `ReplicaLag` datapoints through moto's real CloudWatch API for the replicas that exist, and
    withholds them for one replica to make it lag (not ready).
  * moto never throttles nor checks credentials: a proxy in front of it (moto.FaultyEndpoint)
    answers with `ExpiredToken`, as AWS does when a web-identity session ran out.
  * moto's endpoint names (`<id>.<random>.us-east-1.rds.amazonaws.com`) resolve nowhere: the test's
    resolver (monkeypatched in for targets.readendpoints.resolve_ipv4, the one stand-in) gives each
    a 127.0.0.x address, as the VPC's DNS gives each replica its IP.
  * a replica in moto is `available` at once; a slow create looks to the operator as one that is
    available but has no lag datapoint yet: it counts as current, not ready.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import boto3
import pytest

from scaleplane.targets import rds, readendpoints
from tests.support import moto, operating, planned_stacks
from tests.support.operating import POLICY, eventually

pytestmark = [pytest.mark.servers, pytest.mark.slow]
ENDPOINTSLICES = "discovery.k8s.io/v1/endpointslices"
SOURCE = "scaleplane-prod-db-primary"  # what aws-prod's stack names the RDS primary
STACK_REPLICAS = ("scaleplane-prod-db-replica-1", "scaleplane-prod-db-replica-2")
# Per stack replica. Far over what 5 replicas serve at 500 each, because rate()[2m] of a series younger
# than 2 minutes reads low (Prometheus extrapolates a young series only half an interval back): the
# policy then asks for its maxReplicas (5) within seconds, and for exactly that.
COMMITS_PER_SECOND = 50_000.0


def default_policy() -> tuple[str, dict[str, Any]]:
    """aws-prod's read-replica ScalingPolicy as the plan deploys it: (namespace, body)."""
    for resource in planned_stacks.planned("aws-prod").by_type(
        "kubernetes:scaleplane.io/v1alpha1:ScalingPolicy"
    ):
        if resource.inputs["metadata"]["name"] == "read-replicas":
            meta = resource.inputs["metadata"]
            return meta["namespace"], operating.policy(
                meta["name"], meta["namespace"], resource.inputs["spec"]
            )
    raise AssertionError("aws-prod plans no read-replicas policy")


def make_database(client: Any, namespace: str) -> None:
    """The primary and the two replicas aws-prod's stack makes (Pulumi's, not tagged as scaleplane's)."""
    client.create_db_instance(
        DBInstanceIdentifier=SOURCE,
        DBInstanceClass="db.r6g.large",
        Engine="postgres",
        MasterUsername="scaleplane",
        MasterUserPassword="secret-password",
        AllocatedStorage=200,
        Tags=[{"Key": rds.NAMESPACE_TAG, "Value": namespace}],
    )
    for name in STACK_REPLICAS:
        client.create_db_instance_read_replica(
            DBInstanceIdentifier=name, SourceDBInstanceIdentifier=SOURCE, DBInstanceClass="db.r6g.large"
        )


def replicas(client: Any) -> dict[str, dict[str, str]]:
    """{replica id: its tags} of the source, as moto has them now."""
    source = client.describe_db_instances(DBInstanceIdentifier=SOURCE)["DBInstances"][0]
    ids = source.get("ReadReplicaDBInstanceIdentifiers", [])
    found = client.describe_db_instances(Filters=[{"Name": "db-instance-id", "Values": ids}])["DBInstances"]
    return {i["DBInstanceIdentifier"]: {t["Key"]: t["Value"] for t in i.get("TagList", [])} for i in found}


@contextlib.asynccontextmanager
async def playing_rds(client: Any, cloudwatch: Any, lagging: set[str]) -> AsyncIterator[None]:
    """Publish a 1 s ReplicaLag for every replica but those in `lagging` (120 s for them), every 0.3 s."""

    async def play() -> None:
        while True:
            names = await asyncio.to_thread(replicas, client)
            lags = {name: 120.0 if name in lagging else 1.0 for name in names}
            await asyncio.to_thread(moto.publish_lag, cloudwatch, "ReplicaLag", lags)
            await asyncio.sleep(0.3)

    task = asyncio.create_task(play())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@contextlib.asynccontextmanager
async def committing(prometheus: Any, job: str) -> AsyncIterator[None]:
    """postgres_exporter's `pg_stat_database_xact_commit` for each stack replica (role and datname as
    the stack's exporter labels them), growing at COMMITS_PER_SECOND. A gauge, not a prometheus_client
    Counter: that would publish the name with `_total`, which postgres_exporter does not."""
    exporter = operating.Exporter("pg_stat_database_xact_commit", ("datname", "role", "server"))
    started = time.monotonic()

    async def commit() -> None:
        while True:
            for name in STACK_REPLICAS:
                exporter.set(
                    (time.monotonic() - started) * COMMITS_PER_SECOND,
                    datname="app",
                    role="replica",
                    server=name,
                )
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


def ours(found: dict[str, dict[str, str]]) -> list[str]:
    return sorted(name for name, tags in found.items() if tags.get(rds.MANAGED_TAG) == "scaleplane")


class Dns:
    """Each RDS endpoint name gets the next 127.0.0.x address, the same one every time."""

    def __init__(self) -> None:
        self.addresses: dict[str, str] = {}

    def resolve(self, host: str) -> list[str]:
        if not host.endswith(".rds.amazonaws.com"):
            return []
        return [self.addresses.setdefault(host, f"127.0.0.{len(self.addresses) + 10}")]

    def of(self, client: Any, names: set[str]) -> list[str]:
        found = client.describe_db_instances(Filters=[{"Name": "db-instance-id", "Values": sorted(names)}])
        return sorted(self.resolve(i["Endpoint"]["Address"])[0] for i in found["DBInstances"])


def read_slice(cluster: Any, namespace: str) -> list[str] | None:
    """The addresses of the read Service's EndpointSlice (None while there is none)."""
    found = cluster.read_object(ENDPOINTSLICES, namespace, readendpoints.service_name(SOURCE))
    if found is None:
        return None
    assert found["metadata"]["labels"][readendpoints.SERVICE_NAME_LABEL] == readendpoints.service_name(SOURCE)
    return sorted(ip for endpoint in found.get("endpoints") or [] for ip in endpoint["addresses"])


async def test_aws_prods_read_replica_policy_scales_rds_replicas(prometheus: Any, monkeypatch: Any) -> None:
    dns = Dns()
    monkeypatch.setattr(readendpoints, "resolve_ipv4", dns.resolve)
    namespace, body = default_policy()
    query = body["spec"]["metrics"][0]["query"]
    assert "pg_stat_database_xact_commit" in query and body["spec"]["targetRef"]["name"] == SOURCE
    with moto.running_server() as moto_url:
        session = boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
        )
        client = session.client("rds", endpoint_url=moto_url)
        cloudwatch = session.client("cloudwatch", endpoint_url=moto_url)
        make_database(client, namespace)
        lagging: set[str] = set()
        env = {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "SCALEPLANE_AWS_REGION": "us-east-1",
        }
        async with (
            moto.FaultyEndpoint(moto_url) as endpoint,
            committing(prometheus, "rds-e2e-commits"),
            playing_rds(client, cloudwatch, lagging),
            operating.cluster_api() as (cluster, api_url),
        ):
            env["AWS_ENDPOINT_URL"] = endpoint.url
            await asyncio.to_thread(prometheus.wait_for, query, lambda v: v > 2600, 30)
            cluster.put_object(POLICY, body)
            async with operating.running_operator(api_url, prometheus.url, namespace=namespace, env=env):
                # Over 2,500 commits/s at 500 per replica: its maxReplicas, 5; the 3 new ones are ours.
                made = await eventually(
                    lambda: len(ours(replicas(client))) == 3 and ours(replicas(client)), timeout=40
                )
                assert set(replicas(client)) == {*STACK_REPLICAS, *made}
                await eventually(lambda: _settled(cluster, namespace, 5), timeout=40)
                # Reads reach the 5 ready replicas; the newest, lagging 120 s (bound: 30 s), drops out.
                # (It stays out for up to a minute after it catches up: the lag read is the worst of
                # the last minute. The scale-in below deletes it anyway.)
                everyone = set(replicas(client))
                await eventually(
                    lambda: read_slice(cluster, namespace) == dns.of(client, everyone), timeout=40
                )
                service = cluster.read_object("v1/services", namespace, readendpoints.service_name(SOURCE))
                assert service is not None and "selector" not in service["spec"]
                newest = max(made, key=lambda name: int(replicas(client)[name][rds.CREATED_TAG]))
                lagging.add(newest)
                await eventually(
                    lambda: read_slice(cluster, namespace) == dns.of(client, everyone - {newest}), timeout=40
                )

                # An expired token: the tick fails with the reason in status, nothing is created.
                endpoint.fail_with("ExpiredToken", 403)
                error = await eventually(lambda: _error_with(cluster, namespace, "ExpiredToken"), timeout=40)
                assert "credentials refused" in error
                endpoint.heal()
                await eventually(lambda: _settled(cluster, namespace, 5), timeout=40)
                assert len(replicas(client)) == 5

                # A user lowers the cap to 3: the 2 newest replicas scaleplane made go, never the stack's.
                oldest = min(made, key=lambda name: int(replicas(client)[name][rds.CREATED_TAG]))
                path = f"/apis/scaleplane.io/v1alpha1/namespaces/{namespace}/scalingpolicies/read-replicas"
                await _merge_patch(api_url + path, {"spec": {"maxReplicas": 3}})
                await eventually(lambda: len(replicas(client)) == 3, timeout=40)
                assert set(replicas(client)) == {*STACK_REPLICAS, oldest}
                left = {*STACK_REPLICAS, oldest}
                await eventually(lambda: read_slice(cluster, namespace) == dns.of(client, left), timeout=40)


def _status(cluster: Any, namespace: str) -> dict[str, Any]:
    found = cluster.read_object(POLICY, namespace, "read-replicas") or {}
    return dict(found.get("status") or {})


def _error_with(cluster: Any, namespace: str, text: str) -> str | None:
    error = str(_status(cluster, namespace).get("error") or "")
    return error if text in error else None


def _settled(cluster: Any, namespace: str, current: int) -> bool:
    """The last tick ran at `current` replicas and went through (no error in status)."""
    status = _status(cluster, namespace)
    return (
        status.get("currentReplicas") == current
        and status.get("desiredReplicas") == current
        and not status.get("error")
    )


async def _merge_patch(url: str, body: dict[str, Any]) -> None:
    """What `kubectl patch --type merge` sends."""
    headers = {"Content-Type": "application/merge-patch+json"}
    async with aiohttp.ClientSession() as s, s.patch(url, data=json.dumps(body), headers=headers) as answer:
        assert answer.status == 200, await answer.text()
