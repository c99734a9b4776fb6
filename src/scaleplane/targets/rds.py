"""A ScaleTarget over the read replicas of an RDS instance, via boto3.

The targetRef names the source (primary) DB instance, either the way AWS Controllers for Kubernetes
does (`apiVersion: rds.services.k8s.aws/v1alpha1, kind: DBInstance`) or as scaleplane's infra stacks
emit it (`apiVersion: scaleplane.io/v1alpha1, kind: RDSReadReplicas`); `name` is the DB instance
identifier of the source.
Its replicas are the instances in the source's `ReadReplicaDBInstanceIdentifiers`:

    current = replicas not being deleted (a replica still `creating` counts, so a slow create is
              never doubled by the next tick)
    ready   = replicas `available` whose CloudWatch `ReplicaLag` is known and under the bound
              (targets.awscalls: a replica that serves stale reads is not capacity); in the operator
              they are also what the read Service routes to (targets.readendpoints)
    scale up   -> create_db_instance_read_replica, one call per missing replica, named
                  `<source>-sp-<suffix>` and tagged `scaleplane.io/managed-by=scaleplane` (plus the
                  namespace and a creation stamp)
    scale down -> delete_db_instance of the NEWEST replicas scaleplane created (never a replica
                  someone else made; if that is not enough, a non-retryable error says so)

Namespace rule: the source must carry the tag `scaleplane.io/namespace=<the policy's namespace>`,
so a policy can only scale databases its team has been given.

Errors: as targets.awscalls maps them (throttling, transitional states and connection failures are
retryable; a missing instance, a missing ownership tag, quotas, bad parameters and refused credentials
are not).
"""

from __future__ import annotations

import datetime
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any

from scaleplane.targets import awscalls, protocol

NAMESPACE_TAG = "scaleplane.io/namespace"
MANAGED_TAG = "scaleplane.io/managed-by"
CREATED_TAG = "scaleplane.io/created-at-us"  # microseconds since the epoch, to order replicas exactly
GONE_STATUSES = {"deleting", "deleted", "failed", "incompatible-restore"}
LAG_METRIC = "ReplicaLag"  # seconds, per replica (AWS/RDS)
_EPOCH = datetime.datetime.min.replace(tzinfo=datetime.UTC)


class RdsReadReplicas:
    """Read replicas of `source_id`, for a policy in `namespace`, through `aws`'s clients."""

    def __init__(
        self,
        aws: awscalls.AwsClients,
        namespace: str,
        source_id: str,
        *,
        publish: Callable[[list[dict[str, Any]]], Awaitable[None]] | None = None,
    ) -> None:
        self.aws = aws
        self.publish = publish  # told the ready replicas after every read (targets.readendpoints)
        self.namespace = namespace
        self.source_id = source_id
        self.instance_class = aws.settings.instance_class

    @property
    def client(self) -> Any:
        return self.aws.client("rds")

    def __repr__(self) -> str:
        return f"RdsReadReplicas({self.source_id} for namespace {self.namespace})"

    async def read(self) -> protocol.ReplicaCount:
        live, ready = await self.aws.call(self.source_id, self.ready_set)
        if self.publish is not None:
            await self.publish(ready)
        return protocol.ReplicaCount(current=len(live), ready=len(ready))

    def ready_set(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """(live replicas, ready replicas) as describe_db_instances gives them (blocking)."""
        _, replicas = self._replicas()
        live = [r for r in replicas if r["DBInstanceStatus"] not in GONE_STATUSES]
        available = [r for r in live if r["DBInstanceStatus"] == "available"]
        lags = self.aws.lags(LAG_METRIC, [r["DBInstanceIdentifier"] for r in available])
        bound = self.aws.settings.max_lag_seconds
        ready = [r for r in available if lags.get(r["DBInstanceIdentifier"], float("inf")) <= bound]
        return live, ready

    async def scale(self, replicas: int) -> None:
        await self.aws.call(self.source_id, lambda: self._scale(replicas))

    def _replicas(self) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        source = self._describe([self.source_id])
        if not source:
            raise protocol.TargetError(f"RDS: no DB instance {self.source_id!r}", retryable=False)
        tags = self._tags_of(source[0])
        if tags.get(NAMESPACE_TAG) != self.namespace:
            raise protocol.TargetError(
                f"RDS: DB instance {self.source_id!r} is not given to namespace {self.namespace!r} "
                f"(its tag {NAMESPACE_TAG} is {tags.get(NAMESPACE_TAG)!r})",
                retryable=False,
            )
        replica_ids = source[0].get("ReadReplicaDBInstanceIdentifiers", [])
        return source[0], self._describe(replica_ids) if replica_ids else []

    def _describe(self, ids: list[str]) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        pages = self.client.get_paginator("describe_db_instances").paginate(
            Filters=[{"Name": "db-instance-id", "Values": ids}]
        )
        for page in pages:
            found.extend(page["DBInstances"])
        return found

    def _tags_of(self, instance: dict[str, Any]) -> dict[str, str]:
        if "TagList" in instance:  # describe_db_instances includes tags; older APIs may not
            return {t["Key"]: t["Value"] for t in instance["TagList"]}
        return self._tags(instance["DBInstanceArn"])

    def _tags(self, arn: str) -> dict[str, str]:
        return {t["Key"]: t["Value"] for t in self.client.list_tags_for_resource(ResourceName=arn)["TagList"]}

    def _scale(self, wanted: int) -> None:
        source, replicas = self._replicas()
        live = [r for r in replicas if r["DBInstanceStatus"] not in GONE_STATUSES]
        for _ in range(wanted - len(live)):
            self._create(source)
        if wanted >= len(live):
            return
        excess = len(live) - wanted
        tagged = [(r, self._tags_of(r)) for r in live]
        ours = newest_ours(tagged)
        for replica in ours[:excess]:
            self.client.delete_db_instance(
                DBInstanceIdentifier=replica["DBInstanceIdentifier"], SkipFinalSnapshot=True
            )
        if len(ours) < excess:
            raise protocol.TargetError(
                f"RDS: asked to remove {excess} replica(s) of {self.source_id!r} but only {len(ours)} were "
                "created by scaleplane; the others are left alone",
                retryable=False,
            )

    def _create(self, source: dict[str, Any]) -> None:
        name = f"{self.source_id}-sp-{secrets.token_hex(3)}"
        self.client.create_db_instance_read_replica(
            DBInstanceIdentifier=name,
            SourceDBInstanceIdentifier=self.source_id,
            DBInstanceClass=self.instance_class or source["DBInstanceClass"],
            Tags=ownership_tags(self.namespace),
        )


def ownership_tags(namespace: str) -> list[dict[str, str]]:
    """The tags of a replica scaleplane creates: what scale-in later trusts to delete it."""
    return [
        {"Key": MANAGED_TAG, "Value": "scaleplane"},
        {"Key": NAMESPACE_TAG, "Value": namespace},
        {"Key": CREATED_TAG, "Value": str(time.time_ns() // 1000)},
    ]


def newest_ours(tagged: list[tuple[dict[str, Any], dict[str, str]]]) -> list[dict[str, Any]]:
    """The instances scaleplane created, newest first: by the creation stamp we tag (RDS create times
    can tie), then RDS' own."""
    ours = [(r, tags) for r, tags in tagged if tags.get(MANAGED_TAG) == "scaleplane"]
    ours.sort(key=lambda rt: (int(rt[1].get(CREATED_TAG, 0)), rt[0].get("InstanceCreateTime") or _EPOCH))
    return [replica for replica, _ in reversed(ours)]
