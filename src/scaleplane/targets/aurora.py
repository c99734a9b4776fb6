"""A ScaleTarget over the reader instances of an Aurora DB cluster, via boto3.

The targetRef names the DB cluster, the way AWS Controllers for Kubernetes does
(`apiVersion: rds.services.k8s.aws/v1alpha1, kind: DBCluster`) or as scaleplane's stacks emit it
(`apiVersion: scaleplane.io/v1alpha1, kind: AuroraReaders`); `name` is the DB cluster identifier.
Its replicas are the cluster's members that are not the writer:

    current = readers not being deleted (one still `creating` counts)
    ready   = readers `available` whose CloudWatch `AuroraReplicaLag` (milliseconds) is known and
              under the bound
    scale up   -> create_db_instance into the cluster, named `<cluster>-sp-<suffix>`, of the writer's
                  instance class unless the operator sets one, tagged as RDS replicas are (targets.rds)
    scale down -> delete_db_instance of the NEWEST readers scaleplane created, never another's

Apps read through the cluster's reader endpoint, which Aurora itself balances over the readers that
are up: no Service to keep (docs/operator.md). Same namespace rule as RDS: the cluster must carry
`scaleplane.io/namespace=<the policy's namespace>`.
"""

from __future__ import annotations

import secrets
from typing import Any

from scaleplane.targets import awscalls, protocol, rds

LAG_METRIC = "AuroraReplicaLag"  # milliseconds, per reader (AWS/RDS)


class AuroraReaders:
    """Reader instances of the Aurora cluster `cluster_id`, for a policy in `namespace`."""

    def __init__(self, aws: awscalls.AwsClients, namespace: str, cluster_id: str) -> None:
        self.aws = aws
        self.namespace = namespace
        self.cluster_id = cluster_id

    def __repr__(self) -> str:
        return f"AuroraReaders({self.cluster_id} for namespace {self.namespace})"

    async def read(self) -> protocol.ReplicaCount:
        live, ready = await self.aws.call(self.cluster_id, self.ready_set)
        return protocol.ReplicaCount(current=len(live), ready=len(ready))

    async def scale(self, replicas: int) -> None:
        await self.aws.call(self.cluster_id, lambda: self._scale(replicas))

    def ready_set(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        _, _, readers = self._members()
        live = [r for r in readers if r["DBInstanceStatus"] not in rds.GONE_STATUSES]
        available = [r for r in live if r["DBInstanceStatus"] == "available"]
        lags = self.aws.lags(LAG_METRIC, [r["DBInstanceIdentifier"] for r in available])
        bound_ms = self.aws.settings.max_lag_seconds * 1000
        ready = [r for r in available if lags.get(r["DBInstanceIdentifier"], float("inf")) <= bound_ms]
        return live, ready

    def _members(self) -> tuple[dict[str, Any], dict[str, Any] | None, list[dict[str, Any]]]:
        """(the cluster, its writer instance or None, its reader instances)."""
        client = self.aws.client("rds")
        clusters = client.describe_db_clusters(
            Filters=[{"Name": "db-cluster-id", "Values": [self.cluster_id]}]
        )["DBClusters"]
        if not clusters:
            raise protocol.TargetError(f"Aurora: no DB cluster {self.cluster_id!r}", retryable=False)
        cluster = clusters[0]
        tags = _tags(client, cluster.get("TagList"), cluster["DBClusterArn"])
        if tags.get(rds.NAMESPACE_TAG) != self.namespace:
            raise protocol.TargetError(
                f"Aurora: DB cluster {self.cluster_id!r} is not given to namespace {self.namespace!r} "
                f"(its tag {rds.NAMESPACE_TAG} is {tags.get(rds.NAMESPACE_TAG)!r})",
                retryable=False,
            )
        members = cluster.get("DBClusterMembers", [])
        ids = [m["DBInstanceIdentifier"] for m in members]
        writers = {m["DBInstanceIdentifier"] for m in members if m.get("IsClusterWriter")}
        instances = []
        if ids:
            pages = client.get_paginator("describe_db_instances").paginate(
                Filters=[{"Name": "db-instance-id", "Values": ids}]
            )
            instances = [i for page in pages for i in page["DBInstances"]]
        writer = next((i for i in instances if i["DBInstanceIdentifier"] in writers), None)
        return cluster, writer, [i for i in instances if i["DBInstanceIdentifier"] not in writers]

    def _scale(self, wanted: int) -> None:
        client = self.aws.client("rds")
        cluster, writer, readers = self._members()
        live = [r for r in readers if r["DBInstanceStatus"] not in rds.GONE_STATUSES]
        instance_class = self.aws.settings.instance_class or (writer or {}).get("DBInstanceClass")
        if wanted > len(live) and not instance_class:
            raise protocol.TargetError(
                f"Aurora: cluster {self.cluster_id!r} has no writer to copy an instance class from; "
                "set SCALEPLANE_RDS_INSTANCE_CLASS",
                retryable=False,
            )
        for _ in range(wanted - len(live)):
            client.create_db_instance(
                DBInstanceIdentifier=f"{self.cluster_id}-sp-{secrets.token_hex(3)}",
                DBClusterIdentifier=self.cluster_id,
                Engine=cluster["Engine"],
                DBInstanceClass=instance_class,
                Tags=rds.ownership_tags(self.namespace),
            )
        if wanted >= len(live):
            return
        excess = len(live) - wanted
        ours = rds.newest_ours([(r, _tags(client, r.get("TagList"), r["DBInstanceArn"])) for r in live])
        for reader in ours[:excess]:
            client.delete_db_instance(DBInstanceIdentifier=reader["DBInstanceIdentifier"])
        if len(ours) < excess:
            raise protocol.TargetError(
                f"Aurora: asked to remove {excess} reader(s) of {self.cluster_id!r} but only {len(ours)} "
                "were created by scaleplane; the others are left alone",
                retryable=False,
            )


def _tags(client: Any, listed: list[dict[str, str]] | None, arn: str) -> dict[str, str]:
    if listed is None:  # describe_* include tags; older API versions may not
        listed = client.list_tags_for_resource(ResourceName=arn)["TagList"]
    return {t["Key"]: t["Value"] for t in listed}
