"""EKS rules: no API endpoint open to the internet, Secrets encrypted with KMS, control-plane logs on.

EKS's own default for `endpointPublicAccess` is true and for `publicAccessCidrs` 0.0.0.0/0, so an
absent setting counts as open.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from scaleplane.guardrails import rules

CLUSTER = "aws:eks/cluster:Cluster"
OPEN = {"0.0.0.0/0", "::/0"}


def _no_open_endpoint(resource: rules.Resource, settings: Mapping[str, Any]) -> Iterable[str]:
    vpc = resource.get("vpcConfig") or {}
    if vpc == rules.COMPUTED or vpc.get("endpointPublicAccess") is False:
        return
    cidrs = set(vpc.get("publicAccessCidrs") or ["0.0.0.0/0"])
    if cidrs & OPEN:
        yield f"the public API endpoint is open to {', '.join(sorted(cidrs & OPEN))}"


def _secrets_encrypted(resource: rules.Resource, settings: Mapping[str, Any]) -> Iterable[str]:
    encryption = resource.get("encryptionConfig") or {}
    if encryption == rules.COMPUTED:
        return
    if "secrets" not in (encryption.get("resources") or []) or not (encryption.get("provider") or {}).get(
        "keyArn"
    ):
        yield "encryptionConfig does not envelope-encrypt `secrets` with a KMS key"


def _logs(resource: rules.Resource, settings: Mapping[str, Any]) -> Iterable[str]:
    enabled = set(resource.get("enabledClusterLogTypes") or [])
    missing = [log for log in settings["requiredLogTypes"] if log not in enabled]
    if missing:
        yield f"control-plane log types not enabled: {', '.join(missing)}"


RULES = (
    rules.Rule(
        id="eks-no-open-public-endpoint",
        severity="mandatory",
        description="The EKS API endpoint is private, or public only to named CIDRs (never 0.0.0.0/0).",
        remediation="Set vpcConfig.endpointPublicAccess to false (scaleplane:cluster's default), or list "
        "your networks in publicAccessCidrs.",
        resource_types=(CLUSTER,),
        check=_no_open_endpoint,
    ),
    rules.Rule(
        id="eks-secrets-encryption",
        severity="mandatory",
        description="EKS envelope-encrypts Kubernetes Secrets with a KMS key.",
        remediation="Set encryptionConfig = {resources: [secrets], provider: {keyArn: <a KMS key>}}.",
        resource_types=(CLUSTER,),
        check=_secrets_encrypted,
    ),
    rules.Rule(
        id="eks-control-plane-logs",
        severity="mandatory",
        description="EKS sends the required control-plane log types to CloudWatch.",
        remediation="Add the missing types to enabledClusterLogTypes (scaleplane:cluster.logTypes).",
        resource_types=(CLUSTER,),
        check=_logs,
        thresholds={
            "requiredLogTypes": {
                "type": "array",
                "items": {"type": "string"},
                "default": ["api", "audit", "authenticator"],
                "description": "Log types that must be enabled.",
            }
        },
    ),
)
