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
from typing import Any

import pytest

from scaleplane.targets import rds, readendpoints
from tests.support import aws_replicas, moto, operating
from tests.support.aws_replicas import error_with, settled
from tests.support.waiting import eventually

pytestmark = [pytest.mark.servers, pytest.mark.slow]
ENDPOINTSLICES = "discovery.k8s.io/v1/endpointslices"
SOURCE = "scaleplane-prod-db-primary"  # what aws-prod's stack names the RDS primary
STACK_REPLICAS = ("scaleplane-prod-db-replica-1", "scaleplane-prod-db-replica-2")


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


async def test_aws_prods_read_replica_policy_scales_rds_replicas(
    prometheus: Any, moto_url: str, monkeypatch: Any
) -> None:
    dns = Dns()
    monkeypatch.setattr(readendpoints, "resolve_ipv4", dns.resolve)
    namespace, body = aws_replicas.planned_policy()
    query = body["spec"]["metrics"][0]["query"]
    assert "pg_stat_database_xact_commit" in query and body["spec"]["targetRef"]["name"] == SOURCE
    client, cloudwatch = aws_replicas.moto_clients(moto_url)
    make_database(client, namespace)
    lagging: set[str] = set()
    env = dict(aws_replicas.OPERATOR_ENV)
    # postgres_exporter per stack replica, labelled as the RDS stack's exporters are.
    series = [{"server": name} for name in STACK_REPLICAS]
    async with (
        moto.FaultyEndpoint(moto_url) as endpoint,
        aws_replicas.committing(prometheus, "rds-e2e-commits", series),
        aws_replicas.playing_lag(
            cloudwatch, "ReplicaLag", lambda: list(replicas(client)), lagging, (1.0, 120.0)
        ),
        operating.cluster_api() as (cluster, api_url),
    ):
        env["AWS_ENDPOINT_URL"] = endpoint.url
        await asyncio.to_thread(prometheus.wait_for, query, lambda v: v > 2600, 30)
        cluster.put_object(operating.POLICY, body)
        async with operating.running_operator(api_url, prometheus.url, namespace=namespace, env=env):
            # Over 2,500 commits/s at 500 per replica: its maxReplicas, 5; the 3 new ones are ours.
            made = await eventually(
                lambda: len(ours(replicas(client))) == 3 and ours(replicas(client)), timeout=40
            )
            assert set(replicas(client)) == {*STACK_REPLICAS, *made}
            await eventually(lambda: settled(cluster, namespace, 5), timeout=40)
            # Reads reach the 5 ready replicas; the newest, lagging 120 s (bound: 30 s), drops out.
            # (It stays out for up to a minute after it catches up: the lag read is the worst of
            # the last minute. The scale-in below deletes it anyway.)
            everyone = set(replicas(client))
            await eventually(lambda: read_slice(cluster, namespace) == dns.of(client, everyone), timeout=40)
            service = cluster.read_object("v1/services", namespace, readendpoints.service_name(SOURCE))
            assert service is not None and "selector" not in service["spec"]
            newest = max(made, key=lambda name: int(replicas(client)[name][rds.CREATED_TAG]))
            lagging.add(newest)
            await eventually(
                lambda: read_slice(cluster, namespace) == dns.of(client, everyone - {newest}), timeout=40
            )

            # An expired token: the tick fails with the reason in status, nothing is created.
            endpoint.fail_with("ExpiredToken", 403)
            error = await eventually(lambda: error_with(cluster, namespace, "ExpiredToken"), timeout=40)
            assert "credentials refused" in error
            endpoint.heal()
            await eventually(lambda: settled(cluster, namespace, 5), timeout=40)
            assert len(replicas(client)) == 5

            # A user lowers the cap to 3: the 2 newest replicas scaleplane made go, never the stack's.
            oldest = min(made, key=lambda name: int(replicas(client)[name][rds.CREATED_TAG]))
            await aws_replicas.merge_patch_policy(api_url, namespace, {"spec": {"maxReplicas": 3}})
            await eventually(lambda: len(replicas(client)) == 3, timeout=40)
            assert set(replicas(client)) == {*STACK_REPLICAS, oldest}
            left = {*STACK_REPLICAS, oldest}
            await eventually(lambda: read_slice(cluster, namespace) == dns.of(client, left), timeout=40)
