"""The Aurora reader target against a real moto_server: readers created into the cluster, counted
ready only under the lag bound, and deleted newest-first, only those scaleplane made."""

from __future__ import annotations

from typing import Any

import pytest

from scaleplane.scaling import specs
from scaleplane.targets import aurora, protocol, rds, registry
from tests.support import moto

pytestmark = pytest.mark.servers


def make_cluster(client: Any, name: str = "ledger", namespace: str = "team-a") -> None:
    client.create_db_cluster(
        DBClusterIdentifier=name,
        Engine="aurora-postgresql",
        MasterUsername="app",
        MasterUserPassword="secret-password",
        Tags=[{"Key": rds.NAMESPACE_TAG, "Value": namespace}],
    )
    client.create_db_instance(
        DBInstanceIdentifier=f"{name}-writer",
        DBClusterIdentifier=name,
        Engine="aurora-postgresql",
        DBInstanceClass="db.r6g.large",
    )


def readers_of(client: Any, name: str = "ledger") -> list[str]:
    cluster = client.describe_db_clusters(DBClusterIdentifier=name)["DBClusters"][0]
    return sorted(m["DBInstanceIdentifier"] for m in cluster["DBClusterMembers"] if not m["IsClusterWriter"])


async def test_readers_scale_into_the_cluster_and_out_newest_first(aws, rds_client):
    make_cluster(rds_client)
    rds_client.create_db_instance(  # a reader someone made by hand: never ours to delete
        DBInstanceIdentifier="ledger-manual",
        DBClusterIdentifier="ledger",
        Engine="aurora-postgresql",
        DBInstanceClass="db.r6g.large",
    )
    target = aurora.AuroraReaders(aws, "team-a", "ledger")
    assert await target.read() == protocol.ReplicaCount(1, 0)

    await target.scale(3)
    made = sorted(set(readers_of(rds_client)) - {"ledger-manual"})
    assert len(made) == 2 and all(name.startswith("ledger-sp-") for name in made)
    one = rds_client.describe_db_instances(DBInstanceIdentifier=made[0])["DBInstances"][0]
    assert one["DBInstanceClass"] == "db.r6g.large" and one["DBClusterIdentifier"] == "ledger"
    # AuroraReplicaLag is in milliseconds; the bound is 30 s: 45,000 ms is over it.
    lags = {"ledger-manual": 20.0, made[0]: 45_000.0, made[1]: 900.0}
    moto.publish_lag(aws.client("cloudwatch"), "AuroraReplicaLag", lags)
    assert await target.read() == protocol.ReplicaCount(3, 2)

    await target.scale(4)
    newest = (set(readers_of(rds_client)) - {"ledger-manual", *made}).pop()
    await target.scale(3)
    assert newest not in readers_of(rds_client)
    with pytest.raises(protocol.TargetError, match="only 2 were created by scaleplane") as caught:
        await target.scale(0)
    assert not caught.value.retryable
    assert readers_of(rds_client) == ["ledger-manual"]


async def test_a_cluster_of_another_namespace_is_refused_and_both_kinds_route(aws, rds_client):
    from tests.support.kmock_cluster import kube_client

    make_cluster(rds_client, "billing", namespace="team-b")
    reg = registry.for_cluster(kube_client("http://127.0.0.1:1"), aws=aws)
    for api_version, kind in (
        ("rds.services.k8s.aws/v1alpha1", "DBCluster"),
        ("scaleplane.io/v1alpha1", "AuroraReaders"),
    ):
        target = reg.resolve("team-a", specs.TargetRef(api_version=api_version, kind=kind, name="billing"))
        assert isinstance(target, aurora.AuroraReaders)
        with pytest.raises(protocol.TargetError, match="not given to namespace 'team-a'"):
            await target.scale(1)
    assert readers_of(rds_client, "billing") == []
