"""A ScaleTarget over the read replicas of an RDS instance, via boto3.

The targetRef names the source (primary) DB instance, either the way AWS Controllers for Kubernetes
does (`apiVersion: rds.services.k8s.aws/v1alpha1, kind: DBInstance`) or as scaleplane's infra stacks
emit it (`apiVersion: scaleplane.io/v1alpha1, kind: RDSReadReplicas`); `name` is the DB instance
identifier of the source.
Its replicas are the instances in the source's `ReadReplicaDBInstanceIdentifiers`:

    current = replicas not being deleted     ready = replicas whose status is "available"
    scale up   -> create_db_instance_read_replica, one call per missing replica, named
                  `<source>-sp-<suffix>` and tagged `scaleplane.io/managed-by=scaleplane` (plus the
                  namespace and a creation stamp)
    scale down -> delete_db_instance of the NEWEST replicas scaleplane created (never a replica
                  someone else made; if that is not enough, a non-retryable error says so)

Namespace rule: the source must carry the tag `scaleplane.io/namespace=<the policy's namespace>`,
so a policy can only scale databases its team has been given.

Errors: throttling, an instance in a transitional state and connection failures are retryable; a
missing instance, a missing ownership tag, quotas and bad parameters are not.
"""

from __future__ import annotations

import asyncio
import datetime
import secrets
import time
from collections.abc import Callable
from typing import Any, TypeVar

import botocore.exceptions

from scaleplane.targets import protocol

T = TypeVar("T")

NAMESPACE_TAG = "scaleplane.io/namespace"
MANAGED_TAG = "scaleplane.io/managed-by"
CREATED_TAG = "scaleplane.io/created-at-us"  # microseconds since the epoch, to order replicas exactly
GONE_STATUSES = {"deleting", "deleted", "failed", "incompatible-restore"}
RETRYABLE_CODES = {
    "Throttling",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InvalidDBInstanceState",
    "InvalidDBInstanceStateFault",
    "DBInstanceAlreadyExists",  # a name collision: the next attempt draws a new suffix
    "InternalFailure",
    "ServiceUnavailable",
}
_EPOCH = datetime.datetime.min.replace(tzinfo=datetime.UTC)


class RdsReadReplicas:
    """Read replicas of `source_id`, for a policy in `namespace`. `client` is a boto3 RDS client."""

    def __init__(
        self, client: Any, namespace: str, source_id: str, *, instance_class: str | None = None
    ) -> None:
        self.client = client
        self.namespace = namespace
        self.source_id = source_id
        self.instance_class = instance_class

    def __repr__(self) -> str:
        return f"RdsReadReplicas({self.source_id} for namespace {self.namespace})"

    async def read(self) -> protocol.ReplicaCount:
        _, replicas = await self._run(self._replicas)
        live = [r for r in replicas if r["DBInstanceStatus"] not in GONE_STATUSES]
        ready = [r for r in live if r["DBInstanceStatus"] == "available"]
        return protocol.ReplicaCount(current=len(live), ready=len(ready))

    async def scale(self, replicas: int) -> None:
        await self._run(lambda: self._scale(replicas))

    async def _run(self, call: Callable[[], T]) -> T:
        try:
            return await asyncio.to_thread(call)
        except botocore.exceptions.ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "Unknown")
            message = exc.response.get("Error", {}).get("Message", "")
            raise protocol.TargetError(
                f"RDS {code} on {self.source_id}: {message}", retryable=code in RETRYABLE_CODES
            ) from exc
        except (
            botocore.exceptions.EndpointConnectionError,
            botocore.exceptions.ConnectionClosedError,
        ) as exc:
            raise protocol.TargetError(f"cannot reach the RDS API: {exc}", retryable=True) from exc

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
        ours = [(r, tags) for r, tags in tagged if tags.get(MANAGED_TAG) == "scaleplane"]
        # Newest first: by the creation stamp we tag (RDS create times can tie), then RDS' own.
        ours.sort(key=lambda rt: (int(rt[1].get(CREATED_TAG, 0)), rt[0].get("InstanceCreateTime") or _EPOCH))
        ours.reverse()
        for replica, _ in ours[:excess]:
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
            Tags=[
                {"Key": MANAGED_TAG, "Value": "scaleplane"},
                {"Key": NAMESPACE_TAG, "Value": self.namespace},
                {"Key": CREATED_TAG, "Value": str(time.time_ns() // 1000)},
            ],
        )
