"""The rules as pulumi_policy policies. Building the PolicyPack itself is policies/__main__.py's job:
constructing one starts the analyzer's gRPC server and never returns.

Each rule's thresholds become its policy's config schema, so the pack is configured with the same
file `scaleplane check --policy-config` reads.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi_policy as policy

from scaleplane.guardrails import catalog, rules

LEVELS = {"mandatory": policy.EnforcementLevel.MANDATORY, "advisory": policy.EnforcementLevel.ADVISORY}
SEVERITY = {"mandatory": policy.Severity.HIGH, "advisory": policy.Severity.MEDIUM}


def _resource(resource_type: str, name: str, props: Mapping[str, Any], urn: str) -> rules.Resource:
    return rules.Resource(type=resource_type, name=name, props=dict(props or {}), urn=urn)


def resource_policy(rule: rules.Rule) -> policy.ResourceValidationPolicy:
    assert rule.check is not None
    check = rule.check

    def validate(args: policy.ResourceValidationArgs, report: policy.ReportViolation) -> None:
        resource = _resource(args.resource_type, args.name, args.props, args.urn)
        if not rule.applies_to(resource):
            return
        for message in check(resource, rule.settings(args.get_config())):
            report(f"{message}. Fix: {rule.remediation}", None)

    return policy.ResourceValidationPolicy(
        name=rule.id, description=rule.description, validate=validate, **_common(rule)
    )


def stack_policy(rule: rules.Rule) -> policy.StackValidationPolicy:
    assert rule.stack_check is not None
    check = rule.stack_check

    def validate(args: policy.StackValidationArgs, report: policy.ReportViolation) -> None:
        resources = [_resource(r.resource_type, r.name, r.props, r.urn) for r in args.resources]
        for resource, message in check(resources, rule.settings(args.get_config())):
            report(f"{message}. Fix: {rule.remediation}", resource.urn if resource else None)

    return policy.StackValidationPolicy(
        name=rule.id, description=rule.description, validate=validate, **_common(rule)
    )


def _common(rule: rules.Rule) -> dict[str, Any]:
    schema = (
        policy.PolicyConfigSchema(properties={k: dict(v) for k, v in rule.thresholds.items()})
        if rule.thresholds
        else None
    )
    return {
        "enforcement_level": LEVELS[rule.severity],
        "severity": SEVERITY[rule.severity],
        "remediation_steps": rule.remediation,
        "config_schema": schema,
    }


def policies() -> list[policy.Policy]:
    return [resource_policy(rule) if rule.check else stack_policy(rule) for rule in catalog.RULES]
