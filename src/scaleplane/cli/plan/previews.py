"""The offline plan as `scaleplane plan` shows it: a tree like `pulumi preview`, or one JSON object.

Secret inputs and outputs are shown as `(secret)`, never their value; each resource shows the few
inputs that say what it is (KEY_INPUTS), and lines wrap between values so a number is never cut.
"""

from __future__ import annotations

import json
import textwrap
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scaleplane.infra import planning

SECRET = "(secret)"  # the same marker as scaleplane.infra.mocking.SECRET
KEY_INPUTS = {
    "aws:rds/instance:Instance": (
        "instanceClass",
        "availabilityZone",
        "multiAz",
        "replicateSourceDb",
        "storageEncrypted",
        "publiclyAccessible",
        "backupRetentionPeriod",
        "deletionProtection",
    ),
    "aws:elasticache/replicationGroup:ReplicationGroup": (
        "nodeType",
        "numCacheClusters",
        "automaticFailoverEnabled",
        "atRestEncryptionEnabled",
        "transitEncryptionEnabled",
        "snapshotRetentionLimit",
    ),
    "aws:eks/cluster:Cluster": ("version", "vpcConfig", "enabledClusterLogTypes"),
    "aws:eks/nodeGroup:NodeGroup": ("instanceTypes", "scalingConfig"),
    "aws:ec2/subnet:Subnet": ("cidrBlock", "availabilityZone"),
    "aws:ec2/vpc:Vpc": ("cidrBlock",),
    "kubernetes:helm.sh/v3:Release": ("chart", "version", "namespace"),
    "kubernetes:postgresql.cnpg.io/v1:Cluster": ("spec.instances", "spec.affinity"),
    "kubernetes:scaleplane.io/v1alpha1:ScalingPolicy": (
        "spec.targetRef",
        "spec.minReplicas",
        "spec.maxReplicas",
    ),
    "kubernetes:apps/v1:Deployment": ("metadata.name", "metadata.namespace", "spec.replicas"),
}
KUBERNETES_KEYS = ("metadata.name", "metadata.namespace")
SKIPPED = ("apiVersion", "kind")


def _lookup(inputs: dict[str, Any], dotted: str) -> Any:
    value: Any = inputs
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _summary(resource: Any) -> str:
    keys = KEY_INPUTS.get(resource.type)
    if keys is None and resource.type.startswith("kubernetes:") and "metadata" in resource.inputs:
        keys = KUBERNETES_KEYS
    if keys is None:
        scalars = (k for k, v in resource.inputs.items() if isinstance(v, str | int | float | bool))
        keys = tuple(k for k in scalars if k not in SKIPPED)[:3]
    parts = []
    for key in keys:
        value = SECRET if key in resource.secrets else _lookup(resource.inputs, key)
        if value is not None:
            parts.append(f"{key.rsplit('.', 1)[-1]}={json.dumps(value, separators=(',', ':'))}")
    return " ".join(parts)


def as_json(plan: planning.Plan) -> dict[str, Any]:
    """`plan --json`: every resource with its inputs (secrets masked), the outputs, the counts."""
    return {
        "project": plan.project,
        "stack": plan.stack,
        "resources": [
            {
                "type": r.type,
                "name": r.name,
                "parent": r.parent_name,
                "urn": r.urn,
                "custom": r.custom,
                "provider": r.provider,
                "inputs": {k: (SECRET if k in r.secrets else v) for k, v in r.inputs.items()},
            }
            for r in plan.resources
        ],
        "outputs": {k: (SECRET if k in plan.secret_outputs else v) for k, v in plan.outputs.items()},
        "summary": {"create": len(plan.resources), "byType": counts_by_type(plan)},
    }


def plan_lines(result: planning.Plan, width: int) -> list[str]:
    """The plan as `pulumi preview` shows one: a tree of `+ type name`, key inputs under each, then the
    outputs and the count by type. Lines wrap between values, so a value (a number) is never cut."""
    names = {resource.name for resource in result.resources}
    children: dict[str, list[Any]] = {}
    for resource in result.resources:
        parent = resource.parent_name if resource.parent_name in names else ""
        children.setdefault(parent, []).append(resource)
    lines = [f"{result.project}/{result.stack}: offline plan under Pulumi's mocks (nothing is created)", ""]

    def walk(parent: str, depth: int) -> None:
        for resource in children.get(parent, []):
            indent = "  " * min(depth, 6)
            lines.extend(_wrap(f"+ {resource.type}  {resource.name}", width, indent))
            inputs = _summary(resource)
            if inputs:
                lines.extend(_wrap(inputs, width, indent + "      "))
            if resource.name != parent:
                walk(resource.name, depth + 1)

    walk("", 0)
    lines += ["", "Outputs (cloud-computed values are mock placeholders):"]
    for key, value in result.outputs.items():
        shown = SECRET if key in result.secret_outputs else json.dumps(value)
        lines.extend(_wrap(f"{key}: {shown}", width, "    "))
    return [*lines, "", *_by_type(result).splitlines()]


def _wrap(text: str, width: int, indent: str) -> list[str]:
    return textwrap.wrap(
        text,
        width=max(width, len(indent) + 20),
        initial_indent=indent,
        subsequent_indent=indent + "  ",
        break_long_words=False,
        break_on_hyphens=False,
    ) or [indent]


def counts_by_type(result: planning.Plan) -> dict[str, int]:
    """{type: how many}, most first, as `pulumi preview` sums a preview up."""
    counts: dict[str, int] = {}
    for resource in result.resources:
        counts[resource.type] = counts.get(resource.type, 0) + 1
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def _by_type(result: planning.Plan) -> str:
    counts = counts_by_type(result)
    width = len(str(max(counts.values(), default=0)))
    lines = [f"Resources:\n    +{len(result.resources)} to create"]
    lines += [f"      {count:>{width}} {type_}" for type_, count in counts.items()]
    return "\n".join(lines)
