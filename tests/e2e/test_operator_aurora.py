"""aws-prod with `database.engine: aurora-postgresql`: its planned AuroraReaders policy scales the
cluster's readers through the operator's own loop.

Real here: the ScalingPolicy `scaleplane plan` builds for that stack (unedited until the test lowers
its cap as a user would), the operator process (kopf, the loop) on kmock, a real Prometheus scraping
postgres_exporter-shaped series labelled as the stack's PodMonitor labels them, and a real
moto_server holding the DB cluster, its writer and the stack's readers, reached through the
operator's boto3 clients via a proxy (moto.FaultyEndpoint) that records every call.

What moto cannot show, and what the test does instead:
  * Aurora publishes `AuroraReplicaLag` (milliseconds) to CloudWatch; moto publishes nothing. The
    test plays Aurora through moto's real CloudWatch API: 20 ms for every reader, 45,000 ms (over
    the 30 s bound) for one it makes lag.
  * moto checks no IAM policy: the test checks every call the operator made against the least-
    privilege policy the same plan gives the operator (action, and the instance and cluster ARNs of
    the create, tag and delete calls).
  * Aurora's reader endpoint balancing over the readers that are up is Aurora's own: moto has no
    endpoint that serves reads, so what the test shows of readiness is the operator's count of ready
    readers (its `scaleplane_ready_replicas` gauge), not where reads land.
  * a reader in moto is `available` at once.
"""

from __future__ import annotations

import asyncio
import fnmatch
import json
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from scaleplane.infra import mocking
from scaleplane.targets import rds
from tests.support import aws_replicas, moto, operating, planned_stacks
from tests.support.aws_replicas import settled
from tests.support.waiting import eventually

pytestmark = [pytest.mark.servers, pytest.mark.slow]
AURORA = {"database": {"engine": "aurora-postgresql"}}
CLUSTER = "scaleplane-prod-db-cluster"  # what the stack names the DB cluster and its instances
WRITER = "scaleplane-prod-db-writer"
STACK_READERS = ("scaleplane-prod-db-reader-1", "scaleplane-prod-db-reader-2")
ARN = f"arn:aws:rds:us-east-1:{mocking.ACCOUNT}"  # the plan's mocked account is moto's


def make_cluster(client: Any, namespace: str) -> None:
    """The cluster, writer and two readers aws-prod's Aurora option makes (Pulumi's, not tagged ours)."""
    client.create_db_cluster(
        DBClusterIdentifier=CLUSTER,
        Engine="aurora-postgresql",
        MasterUsername="scaleplane",
        MasterUserPassword="secret-password",
        Tags=[{"Key": rds.NAMESPACE_TAG, "Value": namespace}],
    )
    for name in (WRITER, *STACK_READERS):
        client.create_db_instance(
            DBInstanceIdentifier=name,
            DBClusterIdentifier=CLUSTER,
            Engine="aurora-postgresql",
            DBInstanceClass="db.r6g.large",
        )


def readers(client: Any) -> dict[str, dict[str, str]]:
    """{reader id: its tags} of the cluster, as moto has them now."""
    cluster = client.describe_db_clusters(DBClusterIdentifier=CLUSTER)["DBClusters"][0]
    ids = [m["DBInstanceIdentifier"] for m in cluster["DBClusterMembers"] if not m["IsClusterWriter"]]
    found = client.describe_db_instances(Filters=[{"Name": "db-instance-id", "Values": ids}])["DBInstances"]
    return {i["DBInstanceIdentifier"]: {t["Key"]: t["Value"] for t in i.get("TagList", [])} for i in found}


def ours_by_age(client: Any) -> list[str]:
    """The readers scaleplane made, oldest first (by the creation stamp it tags them with)."""
    found = readers(client)
    mine = [name for name, tags in found.items() if tags.get(rds.MANAGED_TAG) == "scaleplane"]
    return sorted(mine, key=lambda name: int(found[name][rds.CREATED_TAG]))


async def ready_gauge(port: int, namespace: str) -> float | None:
    """The operator's own `scaleplane_ready_replicas` for the policy, from its /metrics."""
    async with aiohttp.ClientSession() as s, s.get(f"http://127.0.0.1:{port}/metrics") as answer:
        text = await answer.text()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "scaleplane_ready_replicas" and sample.labels == {
                "namespace": namespace,
                "policy": "read-replicas",
            }:
                return sample.value
    return None


def allowed(statements: list[dict[str, Any]], action: str, arn: str | None = None) -> bool:
    """Some Allow statement names `action` (and, given `arn`, a resource matching it)."""
    return any(
        s["Effect"] == "Allow"
        and action in s["Action"]
        and (arn is None or any(fnmatch.fnmatchcase(arn, pattern) for pattern in s["Resource"]))
        for s in statements
    )


def check_calls_against_policy(calls: list[tuple[str, dict[str, str]]]) -> set[str]:
    """Every call the operator made is one the planned operator policy allows; returns the actions."""
    policy = planned_stacks.planned("aws-prod", AURORA).named("scaleplane-prod-db-operator-replicas")
    statements = json.loads(policy.inputs["policy"])["Statement"]
    for action, params in calls:
        service = "cloudwatch" if action == "GetMetricData" else "rds"
        assert allowed(statements, f"{service}:{action}"), (action, params)
        if action in ("CreateDBInstance", "DeleteDBInstance"):
            instance = f"{ARN}:db:{params['DBInstanceIdentifier']}"
            assert allowed(statements, f"rds:{action}", instance), (action, params)
        if action == "CreateDBInstance":
            assert allowed(
                statements, "rds:CreateDBInstance", f"{ARN}:cluster:{params['DBClusterIdentifier']}"
            )
            tags = {params[k]: params[k.replace(".Key", ".Value")] for k in params if k.endswith(".Key")}
            assert tags[rds.MANAGED_TAG] == "scaleplane"  # what TagOwnReplicas' condition asks for
            assert allowed(statements, "rds:AddTagsToResource", instance)
    return {action for action, _ in calls}


async def test_aws_prods_aurora_policy_scales_the_clusters_readers(prometheus: Any, moto_url: str) -> None:
    namespace, body = aws_replicas.planned_policy(AURORA)
    spec = body["spec"]
    assert spec["targetRef"] == {
        "apiVersion": "scaleplane.io/v1alpha1",
        "kind": "AuroraReaders",
        "name": CLUSTER,
    }
    assert (spec["minReplicas"], spec["maxReplicas"]) == (2, 5)
    query = spec["metrics"][0]["query"]
    client, cloudwatch = aws_replicas.moto_clients(moto_url)
    make_cluster(client, namespace)
    lagging: set[str] = set()
    env = dict(aws_replicas.OPERATOR_ENV)
    # The stack's one postgres_exporter reads through the reader endpoint (db_instance replica-1).
    series = [{"db_instance": "replica-1"}]
    async with (
        moto.FaultyEndpoint(moto_url) as endpoint,
        aws_replicas.committing(prometheus, "aurora-e2e-commits", series),
        aws_replicas.playing_lag(
            cloudwatch, "AuroraReplicaLag", lambda: list(readers(client)), lagging, (20.0, 45_000.0)
        ),
        operating.cluster_api() as (cluster, api_url),
    ):
        env["AWS_ENDPOINT_URL"] = endpoint.url
        await asyncio.to_thread(prometheus.wait_for, query, lambda v: v > 2600, 30)
        cluster.put_object(operating.POLICY, body)
        async with operating.running_operator(
            api_url, prometheus.url, namespace=namespace, env=env
        ) as runner:
            # One reader at over 2,500 commits/s against 500 a reader (a Value target: the ready
            # readers times 5.2): its maxReplicas, 5; 3 readers into the cluster.
            made = await eventually(lambda: len(ours_by_age(client)) == 3 and ours_by_age(client), timeout=40)
            assert set(readers(client)) == {*STACK_READERS, *made}
            one = client.describe_db_instances(DBInstanceIdentifier=made[0])["DBInstances"][0]
            assert (one["DBClusterIdentifier"], one["DBInstanceClass"]) == (CLUSTER, "db.r6g.large")
            assert all(name.startswith(f"{CLUSTER}-sp-") for name in made)
            await eventually(lambda: settled(cluster, namespace, 5), timeout=40)
            port = runner.metrics_port  # type: ignore[attr-defined]
            await eventually(lambda: _is(ready_gauge(port, namespace), 5), timeout=20)

            # The newest reader lags 45 s (bound 30 s): counted current, not ready, none added for it.
            lagging.add(made[-1])
            await eventually(lambda: _is(ready_gauge(port, namespace), 4), timeout=20)
            assert settled(cluster, namespace, 5) and len(readers(client)) == 5

            # A user lowers the cap to 4: the newest reader scaleplane made goes first.
            await aws_replicas.merge_patch_policy(api_url, namespace, {"spec": {"maxReplicas": 4}})
            await eventually(lambda: len(readers(client)) == 4, timeout=30)
            assert ours_by_age(client) == made[:2]
            # ... and to the floor, 2: the rest of its readers go; the stack's stay, and the writer.
            await aws_replicas.merge_patch_policy(api_url, namespace, {"spec": {"maxReplicas": 2}})
            await eventually(lambda: settled(cluster, namespace, 2), timeout=30)
            assert set(readers(client)) == set(STACK_READERS)
            members = client.describe_db_clusters(DBClusterIdentifier=CLUSTER)["DBClusters"][0]
            assert [
                m["DBInstanceIdentifier"] for m in members["DBClusterMembers"] if m["IsClusterWriter"]
            ] == [WRITER]
    actions = check_calls_against_policy(endpoint.calls)
    assert {"CreateDBInstance", "DeleteDBInstance", "DescribeDBClusters", "GetMetricData"} <= actions


async def _is(value: Any, wanted: float) -> bool:
    return (await value) == wanted
