"""The RDS read-replica target against a real moto_server."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from scaleplane.scaling import specs
from scaleplane.targets import awscalls, protocol, rds, registry
from tests.support import moto

pytestmark = pytest.mark.servers


def make_source(client: Any, name: str = "orders", namespace: str | None = "team-a") -> None:
    tags = [{"Key": rds.NAMESPACE_TAG, "Value": namespace}] if namespace else []
    client.create_db_instance(
        DBInstanceIdentifier=name,
        DBInstanceClass="db.t3.micro",
        Engine="postgres",
        MasterUsername="app",
        MasterUserPassword="secret-password",
        AllocatedStorage=20,
        Tags=tags,
    )


def replicas_of(client: Any, name: str = "orders") -> list[str]:
    source = client.describe_db_instances(DBInstanceIdentifier=name)["DBInstances"][0]
    return sorted(source.get("ReadReplicaDBInstanceIdentifiers", []))


def caught_up(aws: Any, name: str = "orders") -> None:
    """Every replica of `name` reports a small lag (as RDS would, a minute after it is available)."""
    moto.publish_lag(
        aws.client("cloudwatch"), "ReplicaLag", dict.fromkeys(replicas_of(aws.client("rds"), name), 1.0)
    )


async def test_scales_replicas_up_and_down(aws, rds_client):
    make_source(rds_client)
    target = rds.RdsReadReplicas(aws, "team-a", "orders")
    assert await target.read() == protocol.ReplicaCount(0, 0)

    await target.scale(2)
    made = replicas_of(rds_client)
    assert await target.read() == protocol.ReplicaCount(2, 0)  # available, but no lag known yet
    caught_up(aws)
    assert len(made) == 2 and all(name.startswith("orders-sp-") for name in made)
    assert await target.read() == protocol.ReplicaCount(2, 2)
    one = rds_client.describe_db_instances(DBInstanceIdentifier=made[0])["DBInstances"][0]
    assert one["DBInstanceClass"] == "db.t3.micro"
    assert one["ReadReplicaSourceDBInstanceIdentifier"] == "orders"

    await target.scale(3)
    newest = (set(replicas_of(rds_client)) - set(made)).pop()
    await target.scale(2)  # the newest replica goes first
    assert replicas_of(rds_client) == made
    assert newest not in {
        i["DBInstanceIdentifier"] for i in rds_client.describe_db_instances()["DBInstances"]
    }
    await target.scale(2)  # already there: nothing happens
    assert replicas_of(rds_client) == made
    assert await target.read() == protocol.ReplicaCount(2, 2)


async def test_a_lagging_replica_is_not_ready(aws, rds_client):
    make_source(rds_client)
    target = rds.RdsReadReplicas(aws, "team-a", "orders")
    await target.scale(2)
    slow, fast = replicas_of(rds_client)
    moto.publish_lag(aws.client("cloudwatch"), "ReplicaLag", {slow: 95.0, fast: 2.0})  # bound: 30 s
    assert await target.read() == protocol.ReplicaCount(2, 1)
    _, ready = await aws.call("orders", target.ready_set)
    assert [r["DBInstanceIdentifier"] for r in ready] == [fast]


async def test_replicas_made_by_someone_else_are_never_deleted(aws, rds_client):
    make_source(rds_client)
    rds_client.create_db_instance_read_replica(
        DBInstanceIdentifier="orders-manual",
        SourceDBInstanceIdentifier="orders",
        DBInstanceClass="db.t3.micro",
    )
    target = rds.RdsReadReplicas(aws, "team-a", "orders")
    await target.scale(2)
    caught_up(aws)
    assert await target.read() == protocol.ReplicaCount(2, 2)
    with pytest.raises(protocol.TargetError, match="only 1 were created by scaleplane") as caught:
        await target.scale(0)
    assert not caught.value.retryable
    assert replicas_of(rds_client) == ["orders-manual"]


async def test_a_source_not_given_to_the_namespace_is_refused(aws, rds_client):
    make_source(rds_client, "billing", namespace="team-b")
    make_source(rds_client, "untagged", namespace=None)
    for name, tag in (("billing", "'team-b'"), ("untagged", "None")):
        target = rds.RdsReadReplicas(aws, "team-a", name)
        with pytest.raises(
            protocol.TargetError, match=f"is not given to namespace 'team-a'.*is {tag}"
        ) as caught:
            await target.scale(1)
        assert not caught.value.retryable
        assert replicas_of(rds_client, name) == []


async def test_a_missing_source_is_not_retryable(aws):
    with pytest.raises(protocol.TargetError, match="no DB instance 'nope'") as caught:
        await rds.RdsReadReplicas(aws, "team-a", "nope").read()
    assert not caught.value.retryable


async def test_an_unreachable_api_is_retryable():
    from tests.support.endpoints import free_port

    aws = moto.aws_clients(f"http://127.0.0.1:{free_port()}")
    with pytest.raises(protocol.TargetError, match="cannot reach the AWS API") as caught:
        await rds.RdsReadReplicas(aws, "team-a", "orders").read()
    assert caught.value.retryable


async def test_no_region_is_a_clear_error():
    aws = awscalls.AwsClients(
        awscalls.AwsSettings(), session_factory=lambda: boto3.session.Session(region_name=None)
    )
    with pytest.raises(protocol.TargetError, match="no region") as caught:
        await rds.RdsReadReplicas(aws, "team-a", "orders").read()
    assert not caught.value.retryable


async def test_the_cluster_registry_routes_both_rds_kinds(aws, rds_client):
    from tests.support.kmock_cluster import kube_client

    make_source(rds_client)
    reg = registry.for_cluster(kube_client("http://127.0.0.1:1"), aws=aws)
    for api_version, kind in (
        ("rds.services.k8s.aws/v1alpha1", "DBInstance"),
        ("scaleplane.io/v1alpha1", "RDSReadReplicas"),
    ):
        target = reg.resolve("team-a", specs.TargetRef(api_version=api_version, kind=kind, name="orders"))
        assert isinstance(target, rds.RdsReadReplicas)
        assert await target.read() == protocol.ReplicaCount(0, 0)


async def test_throttling_is_retryable_and_an_expired_token_drops_the_clients(moto_url, rds_client):
    """A proxy in front of moto answers as AWS does (moto itself never throttles nor checks tokens).
    It runs in this test's loop: every call through it must be awaited (the target's are)."""
    make_source(rds_client)
    async with moto.FaultyEndpoint(moto_url) as endpoint:
        faulty = moto.aws_clients(endpoint.url)
        target = rds.RdsReadReplicas(faulty, "team-a", "orders")
        endpoint.fail_with("Throttling", 400)
        with pytest.raises(protocol.TargetError, match="RDS Throttling on orders") as caught:
            await target.read()
        assert (
            caught.value.retryable and 1 < endpoint.failed < 6
        )  # botocore retried it, a bounded number of times
        endpoint.fail_with("ExpiredToken", 403)
        first = faulty.client("rds")
        with pytest.raises(protocol.TargetError, match=r"credentials refused \(ExpiredToken\)") as caught:
            await target.read()
        assert not caught.value.retryable
        endpoint.heal()
        assert faulty.client("rds") is not first  # built again, from a fresh credential chain
        assert await target.read() == protocol.ReplicaCount(0, 0)


async def test_no_credentials_is_a_clear_error(moto_url):
    aws = awscalls.AwsClients(
        awscalls.AwsSettings(region="us-east-1", endpoint_url=moto_url),
        session_factory=lambda: boto3.session.Session(botocore_session=_no_credentials()),
    )
    with pytest.raises(protocol.TargetError, match="no credentials") as caught:
        await rds.RdsReadReplicas(aws, "team-a", "orders").read()
    assert not caught.value.retryable


def _no_credentials():
    import botocore.credentials
    import botocore.session

    session = botocore.session.Session()
    session.register_component("credential_provider", botocore.credentials.CredentialResolver([]))
    return session
