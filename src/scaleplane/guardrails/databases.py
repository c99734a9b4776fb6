"""RDS rules: private, encrypted, backed up; in production also Multi-AZ, protected and replicated.

A read replica (an instance with `replicateSourceDb`) takes encryption and backups from its source,
so the backup and Multi-AZ rules judge primaries only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from scaleplane.guardrails import rules

INSTANCE = "aws:rds/instance:Instance"


def _is_replica(resource: rules.Resource) -> bool:
    return bool(resource.props.get("replicateSourceDb"))


def _no_public_access(resource: rules.Resource, settings: Mapping[str, Any]) -> Iterable[str]:
    if rules.truthy(resource.get("publiclyAccessible")):
        yield "publiclyAccessible is true: the instance gets a public address"


def _storage_encrypted(resource: rules.Resource, settings: Mapping[str, Any]) -> Iterable[str]:
    if not resource.unknown("storageEncrypted") and not rules.truthy(resource.get("storageEncrypted")):
        value = resource.get("storageEncrypted")
        yield f"storageEncrypted is {value!r}: data and snapshots are stored unencrypted"


def _backup_retention(resource: rules.Resource, settings: Mapping[str, Any]) -> Iterable[str]:
    if _is_replica(resource) or resource.unknown("backupRetentionPeriod"):
        return
    days = rules.number(resource.get("backupRetentionPeriod"), 0)
    if days < settings["minDays"]:
        yield f"backupRetentionPeriod is {days:g} day(s), below the minimum of {settings['minDays']}"


def _production_resilience(resource: rules.Resource, settings: Mapping[str, Any]) -> Iterable[str]:
    if not resource.is_production(settings):
        return
    if not _is_replica(resource) and not rules.truthy(resource.get("multiAz")):
        yield "multiAz is off in production: one AZ outage takes the primary down"
    if not rules.truthy(resource.get("deletionProtection")):
        yield "deletionProtection is off in production: one `pulumi destroy` deletes the database"


def _replicas_in_production(
    resources: Sequence[rules.Resource], settings: Mapping[str, Any]
) -> Iterable[tuple[rules.Resource | None, str]]:
    instances = [resource for resource in resources if resource.type == INSTANCE]
    primaries = [db for db in instances if not _is_replica(db) and db.is_production(settings)]
    for primary in primaries:
        own = primary.get("identifier") or primary.name
        # A source not known in preview counts for any primary; a known one must name this one.
        replicas = [
            db
            for db in instances
            if _is_replica(db)
            and (db.unknown("replicateSourceDb") or db.get("replicateSourceDb") in (own, primary.urn))
        ]
        if len(replicas) < settings["minReplicas"]:
            yield (
                primary,
                f"{len(replicas)} read replica(s) of {own} in production, "
                f"at least {settings['minReplicas']} required",
            )


RULES = (
    rules.Rule(
        id="rds-no-public-access",
        severity="mandatory",
        description="RDS instances are not publicly accessible.",
        remediation="Set publiclyAccessible to false (scaleplane:database.publiclyAccessible: false); reach "
        "the database from inside the VPC.",
        resource_types=(INSTANCE,),
        check=_no_public_access,
    ),
    rules.Rule(
        id="rds-storage-encrypted",
        severity="mandatory",
        description="RDS storage is encrypted at rest (with a KMS key).",
        remediation="Set storageEncrypted to true with a kmsKeyId (scaleplane:database.storageEncrypted: "
        "true). An existing unencrypted instance must be restored from an encrypted snapshot copy.",
        resource_types=(INSTANCE,),
        check=_storage_encrypted,
    ),
    rules.Rule(
        id="rds-backup-retention",
        severity="mandatory",
        description="RDS primaries keep automated backups for at least the configured number of days.",
        remediation="Set backupRetentionPeriod to at least minDays "
        "(scaleplane:database.backupRetentionDays).",
        resource_types=(INSTANCE,),
        check=_backup_retention,
        thresholds={
            "minDays": {
                "type": "integer",
                "minimum": 0,
                "default": 7,
                "description": "Minimum retention in days.",
            }
        },
    ),
    rules.Rule(
        id="rds-production-resilience",
        severity="mandatory",
        description="In production, RDS primaries are Multi-AZ and every instance has deletion protection.",
        remediation="Set multiAz and deletionProtection to true (scaleplane:database.multiAz / "
        "deletionProtection, or leave them null: on in production).",
        resource_types=(INSTANCE,),
        check=_production_resilience,
        thresholds=rules.PRODUCTION,
    ),
    rules.Rule(
        id="rds-production-read-replicas",
        severity="mandatory",
        description="In production, every RDS primary has at least the configured number of read replicas.",
        remediation="Raise scaleplane:database.readReplicas to at least minReplicas.",
        stack_check=_replicas_in_production,
        thresholds={
            **rules.PRODUCTION,
            "minReplicas": {
                "type": "integer",
                "minimum": 0,
                "default": 1,
                "description": "Minimum read replicas per primary.",
            },
        },
    ),
)
