"""cache-primary-loss on ElastiCache (Redis or Valkey, cluster mode disabled): ElastiCache's automatic
failover promotes the replica with the least lag; the drill watches the first node group's members'
`CurrentRole` change.

The fault: the FIS action `aws:elasticache:replicationgroup-interrupt-az-power` cuts the power of the
primary's zone for `duration` (replication groups are chosen by tag only, never by ARN: the drill tags
the group `scaleplane-drill=<group>` in prepare and removes the tag in rollback), or the bare
`test_failover` call. The step ids are the scenario's (written for Sentinel on the local target); on
ElastiCache the failover's quorum is ElastiCache's own. No Redis probe runs against ElastiCache here, so
RTO and RPO are not measured on this target.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scaleplane.drills.actions import Action, act
from scaleplane.drills.engine import backends

if TYPE_CHECKING:
    from scaleplane.drills.aws.drilling import AwsBackend

Outcome = backends.Outcome
TAG = "scaleplane-drill"
NO_PROBE = "not measured: no Redis probe on aws"
DESCRIBE = "aws elasticache describe-replication-groups --replication-group-id GROUP"
ROLES = (
    f"{DESCRIBE} --query 'ReplicationGroups[0].NodeGroups[0].NodeGroupMembers[].[CacheClusterId,CurrentRole]'"
)


class ReplicationGroupDrill:
    def __init__(self, backend: AwsBackend) -> None:
        self.b = backend
        self.primary: str | None = None
        self.node_group: str | None = None
        self.tagged: str | None = None

    def table(self) -> dict[str, Action]:
        return {
            "start-cache": act(
                self._prepare,
                DESCRIBE,
                "aws fis create-experiment-template --cli-input-json file://template.json",
            ),
            "start-cache-probes": act(lambda t: Outcome(True, NO_PROBE)),
            "kill-cache-primary": act(
                self._inject,
                "aws fis start-experiment --experiment-template-id TEMPLATE",
                "aws elasticache test-failover --replication-group-id GROUP --node-group-id 0001",
            ),
            "detect-cache-primary-down": act(
                self._detect, "aws elasticache describe-events --source-type replication-group --duration 60"
            ),
            "decide-sentinel-quorum": act(
                self._decide, f"{DESCRIBE} --query 'ReplicationGroups[0].AutomaticFailover'"
            ),
            "await-sentinel-failover": act(self._await_failover, ROLES),
            "verify-writes-resume": act(lambda t: Outcome(True, NO_PROBE)),
            "verify-reads-resume": act(lambda t: Outcome(True, NO_PROBE)),
            "verify-acknowledged-writes": act(lambda t: Outcome(True, "data check not run: no probe")),
            "rejoin-old-cache-primary": act(self._rejoin, ROLES),
            "stop-cache": act(self._rollback, "aws fis delete-experiment-template --id TEMPLATE"),
        }

    def _group(self) -> dict[str, Any]:
        found: dict[str, Any] = self.b.elasticache.describe_replication_groups(
            ReplicationGroupId=self.b.cluster
        )["ReplicationGroups"][0]
        return found

    def _members(self) -> list[dict[str, Any]]:
        members: list[dict[str, Any]] = self._group()["NodeGroups"][0]["NodeGroupMembers"]
        return members

    def _current_primary(self) -> str | None:
        return next((m["CacheClusterId"] for m in self._members() if m.get("CurrentRole") == "primary"), None)

    def _prepare(self, timeout: float) -> Outcome:
        group = self._group()
        members = group["NodeGroups"][0]["NodeGroupMembers"]
        primary = next((m for m in members if m.get("CurrentRole") == "primary"), None)
        replicas = [m["CacheClusterId"] for m in members if m.get("CurrentRole") == "replica"]
        failover = group.get("AutomaticFailover")
        if group["Status"] != "available" or primary is None or not replicas or failover != "enabled":
            return Outcome(
                False,
                f"replication group {self.b.cluster} is {group['Status']}, automatic failover {failover}, "
                f"replicas {replicas}: a failover needs a primary, a replica and automatic failover",
            )
        self.primary, self.node_group = primary["CacheClusterId"], group["NodeGroups"][0]["NodeGroupId"]
        zone = primary.get("PreferredAvailabilityZone")
        if self.b.fault_kind == "fis":
            self.b.elasticache.add_tags_to_resource(
                ResourceName=group["ARN"], Tags=[{"Key": TAG, "Value": self.b.cluster}]
            )
            self.tagged = group["ARN"]
        refused = self.b.fis_template(
            lambda alarm: self.b.experiments.body(
                "cache-primary-loss",
                f"scaleplane drill cache-primary-loss on {self.b.cluster}",
                {
                    "group": {
                        "resourceType": "aws:elasticache:replicationgroup",
                        "resourceTags": {TAG: self.b.cluster},
                        "parameters": {"availabilityZoneIdentifier": zone},
                        "selectionMode": "ALL",
                    }
                },
                {
                    "power": {
                        "actionId": "aws:elasticache:replicationgroup-interrupt-az-power",
                        "parameters": {"duration": "PT5M"},
                        "targets": {"ReplicationGroups": "group"},
                    }
                },
                alarm,
            )
        )
        return refused or Outcome(True, f"primary {self.primary} in {zone}, replicas {', '.join(replicas)}")

    def _inject(self, timeout: float) -> Outcome:
        group, node_group = self.b.cluster, self.node_group
        return self.b.inject(
            f"test_failover({group}, {node_group})",
            lambda: self.b.elasticache.test_failover(ReplicationGroupId=group, NodeGroupId=node_group),
            timeout,
        )

    def _detect(self, timeout: float) -> Outcome:
        ok = self.b.until(
            lambda: self._group()["Status"] != "available" or self._current_primary() != self.primary, timeout
        )
        seen = "the replication group is failing over" if ok else "the primary did not change"
        return Outcome(bool(ok), seen, {"detected": self.b.clock.now()} if ok else {})

    def _decide(self, timeout: float) -> Outcome:
        failover = self._group().get("AutomaticFailover")
        return Outcome(
            failover == "enabled", f"automatic failover is {failover}: the failover is ElastiCache's"
        )

    def _await_failover(self, timeout: float) -> Outcome:
        new = self.b.until(lambda: (p := self._current_primary()) != self.primary and p, timeout)
        if not new:
            return Outcome(False, f"the primary is still {self.primary} after {timeout:g} s")
        return Outcome(True, f"{new} is the primary", {"failover": self.b.clock.now()})

    def _rejoin(self, timeout: float) -> Outcome:
        def replica_again() -> bool:
            return any(
                m["CacheClusterId"] == self.primary and m.get("CurrentRole") == "replica"
                for m in self._members()
            )

        ok = self.b.until(replica_again, timeout)
        marks = {"fail back": self.b.clock.now()} if ok else {}
        return Outcome(
            bool(ok), f"{self.primary} is a replica" if ok else f"{self.primary} is not back", marks
        )

    def _rollback(self, timeout: float) -> Outcome:
        if self.tagged is not None:
            self.b.elasticache.remove_tags_from_resource(ResourceName=self.tagged, TagKeys=[TAG])
        return self.b.clean_up("the replication group is yours")
