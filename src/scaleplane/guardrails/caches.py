"""ElastiCache rules, after AWS Security Hub's ElastiCache.1 to .7.

1 automatic backups, 2 automatic minor version upgrades, 3 automatic failover, 4 encryption at rest,
5 encryption in transit, 6 AUTH (a token or RBAC user groups), 7 not the default subnet group.
Where AWS's own default is the compliant value (minor upgrades), only an explicit `false` fails.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from scaleplane.guardrails import rules

GROUP = "aws:elasticache/replicationGroup:ReplicationGroup"
CLUSTER = "aws:elasticache/cluster:Cluster"


def _backups(resource: rules.Resource, settings: Mapping[str, Any]) -> Iterable[str]:
    if resource.type == CLUSTER and resource.get("replicationGroupId"):
        return  # a member of a replication group: the group's setting rules
    days = rules.number(resource.get("snapshotRetentionLimit"), 0)
    if not resource.unknown("snapshotRetentionLimit") and days < settings["minDays"]:
        minimum = settings["minDays"]
        yield f"snapshotRetentionLimit is {days:g} day(s): automatic backups below {minimum} day(s)"


def _switch(key: str, what: str, absent_is_compliant: bool = False) -> Callable[..., Iterable[str]]:
    def check(resource: rules.Resource, settings: Mapping[str, Any]) -> Iterable[str]:
        if resource.unknown(key) or (absent_is_compliant and resource.get(key) is None):
            return
        if not rules.truthy(resource.get(key)):
            yield f"{key} is {resource.get(key)!r}: {what}"

    return check


def _auth(resource: rules.Resource, settings: Mapping[str, Any]) -> Iterable[str]:
    if (
        not resource.get("authToken")
        and not resource.get("userGroupIds")
        and not resource.unknown("authToken")
    ):
        yield "neither authToken nor userGroupIds is set: any client inside the network can connect"


def _subnet_group(resource: rules.Resource, settings: Mapping[str, Any]) -> Iterable[str]:
    if resource.type == CLUSTER and resource.get("replicationGroupId"):
        return
    name = resource.get("subnetGroupName")
    if not resource.unknown("subnetGroupName") and name in (None, "", "default"):
        yield f"subnetGroupName is {name!r}: the default subnet group (the default VPC's subnets)"


def _rule(
    number: int, rule_id: str, description: str, remediation: str, check: Any, **extra: Any
) -> rules.Rule:
    types = extra.pop("types", (GROUP,))
    return rules.Rule(
        id=rule_id,
        severity="mandatory",
        description=f"{description} (AWS Security Hub ElastiCache.{number})",
        remediation=remediation,
        resource_types=types,
        check=check,
        **extra,
    )


RULES = (
    _rule(
        1,
        "elasticache-backups",
        "ElastiCache Redis keeps automatic backups.",
        "Set snapshotRetentionLimit to at least minDays (scaleplane:cache.snapshotRetentionDays).",
        _backups,
        types=(GROUP, CLUSTER),
        thresholds={
            "minDays": {
                "type": "integer",
                "minimum": 0,
                "default": 1,
                "description": "Minimum snapshot retention.",
            }
        },
    ),
    _rule(
        2,
        "elasticache-minor-upgrades",
        "ElastiCache applies minor version upgrades automatically.",
        "Set autoMinorVersionUpgrade to true (scaleplane:cache.autoMinorVersionUpgrade).",
        _switch(
            "autoMinorVersionUpgrade", "security patches wait for a manual upgrade", absent_is_compliant=True
        ),
        types=(GROUP, CLUSTER),
    ),
    _rule(
        3,
        "elasticache-automatic-failover",
        "ElastiCache replication groups fail over automatically.",
        "Set automaticFailoverEnabled to true with at least one replica "
        "(scaleplane:cache.automaticFailover).",
        _switch("automaticFailoverEnabled", "a primary failure needs a manual promotion"),
    ),
    _rule(
        4,
        "elasticache-encryption-at-rest",
        "ElastiCache replication groups are encrypted at rest.",
        "Set atRestEncryptionEnabled to true (scaleplane:cache.atRestEncryption); it needs a new group.",
        _switch("atRestEncryptionEnabled", "snapshots and swap are stored unencrypted"),
    ),
    _rule(
        5,
        "elasticache-encryption-in-transit",
        "ElastiCache replication groups encrypt traffic (TLS).",
        "Set transitEncryptionEnabled to true (scaleplane:cache.transitEncryption); clients must use TLS.",
        _switch("transitEncryptionEnabled", "commands and data cross the network in clear text"),
    ),
    _rule(
        6,
        "elasticache-auth",
        "ElastiCache Redis requires AUTH (a token or RBAC user groups).",
        "Set authToken (scaleplane:cache.auth: true generates one) or userGroupIds; AUTH needs TLS.",
        _auth,
    ),
    _rule(
        7,
        "elasticache-own-subnet-group",
        "ElastiCache does not use the default subnet group.",
        "Create a subnet group of private subnets and set subnetGroupName to it.",
        _subnet_group,
        types=(GROUP, CLUSTER),
    ),
)
