"""IAM rules: the policies a stack writes grant named actions on named resources.

A role's inline policy (`aws:iam/rolePolicy:RolePolicy`) or a managed policy (`aws:iam/policy:Policy`)
is judged statement by statement, for `Allow` statements only:

    Action "*" or "<service>:*"             a wildcard action: name the actions
    NotAction / NotResource                 allows everything but a list: name what is allowed
    Resource "*"                            only for actions AWS offers no resource-level permission for
                                            (GLOBAL_ACTIONS); anything else must name its ARNs

The operator's own role (infra/aws/operator_access.py) is the case this rule was written for: its
one `Resource: "*"` is cloudwatch:GetMetricData, which cannot be scoped.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from scaleplane.guardrails import rules

POLICY_TYPES = ("aws:iam/rolePolicy:RolePolicy", "aws:iam/policy:Policy")
# Actions whose IAM authorization takes no resource ARN (AWS's Service Authorization Reference lists
# their resource type as "*"). Extend the list, with the reference, when a stack needs another.
GLOBAL_ACTIONS = frozenset(
    {
        "cloudwatch:GetMetricData",
        "cloudwatch:GetMetricStatistics",
        "cloudwatch:ListMetrics",
        "ce:GetCostAndUsage",
        "ce:GetCostForecast",
        "sts:GetCallerIdentity",
    }
)


def _listed(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(item) for item in (value if isinstance(value, list) else [value])]


def _least_privilege(resource: rules.Resource, settings: Mapping[str, Any]) -> Iterable[str]:
    if resource.unknown("policy"):
        return
    document = resource.get("policy")
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except ValueError:
            yield "policy is not valid JSON"
            return
    if not isinstance(document, dict):
        return
    for index, statement in enumerate(_listed_statements(document.get("Statement"))):
        if statement.get("Effect") != "Allow":
            continue
        where = f"statement {statement.get('Sid') or index}"
        if "NotAction" in statement or "NotResource" in statement:
            yield f"{where} allows with NotAction/NotResource: everything but a list"
        actions = _listed(statement.get("Action"))
        wild = [a for a in actions if a == "*" or a.endswith(":*")]
        if wild:
            yield f"{where} grants the wildcard action(s) {', '.join(wild)}"
        if "*" in _listed(statement.get("Resource")):
            scoped = sorted(a for a in actions if a not in GLOBAL_ACTIONS)
            if scoped:
                yield f'{where} grants {", ".join(scoped)} on Resource "*"; name the ARNs'


def _listed_statements(value: Any) -> list[dict[str, Any]]:
    items = value if isinstance(value, list) else [value]
    return [item for item in items if isinstance(item, dict)]


RULES = (
    rules.Rule(
        id="iam-least-privilege",
        severity="mandatory",
        description="IAM policies grant named actions on named resources (no wildcard actions; "
        'Resource "*" only for actions that cannot be scoped).',
        remediation="List the actions the workload calls and the ARNs it calls them on (the operator's "
        "role: infra/aws/operator_access.py); an action with no resource-level permissions goes in "
        "scaleplane.guardrails.identities.GLOBAL_ACTIONS, with the AWS reference.",
        resource_types=POLICY_TYPES,
        check=_least_privilege,
    ),
)
