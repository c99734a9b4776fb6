"""Required tags: who owns a resource, who pays for it, which environment it belongs to.

Judged on AWS resources that take tags: those that carry a `tags` input, and the platform's main
resource types even when they carry none (an untagged database is the case that matters most).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from scaleplane.guardrails import rules

ALWAYS_TAGGED = (
    "aws:ec2/vpc:Vpc",
    "aws:eks/cluster:Cluster",
    "aws:eks/nodeGroup:NodeGroup",
    "aws:rds/instance:Instance",
    "aws:elasticache/replicationGroup:ReplicationGroup",
    "aws:kms/key:Key",
)


class _TaggedTypes(tuple[str, ...]):
    """Any AWS type matches: whether a resource is judged depends on its inputs (see `_required_tags`)."""

    def __contains__(self, type_: object) -> bool:
        return isinstance(type_, str) and type_.startswith("aws:")


def _required_tags(resource: rules.Resource, settings: Mapping[str, Any]) -> Iterable[str]:
    if "tags" not in resource.props and resource.type not in ALWAYS_TAGGED:
        return
    if resource.unknown("tags"):
        return
    tags = resource.tags
    missing = [key for key in settings["requiredTags"] if not tags.get(key)]
    if missing:
        yield f"missing required tag(s): {', '.join(missing)}"


RULES = (
    rules.Rule(
        id="required-tags",
        severity="mandatory",
        description="AWS resources carry the required tags (owner, cost-center, environment).",
        remediation="Set scaleplane:tags with owner and cost-center; environment comes from "
        "scaleplane:environment.",
        resource_types=_TaggedTypes(),
        check=_required_tags,
        thresholds={
            "requiredTags": {
                "type": "array",
                "items": {"type": "string"},
                "default": ["owner", "cost-center", "environment"],
                "description": "Tag keys every taggable resource must carry with a non-empty value.",
            }
        },
    ),
)
