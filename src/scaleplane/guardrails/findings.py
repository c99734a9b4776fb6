"""The guardrails' violations in the formats CI systems show natively: JSON, SARIF 2.1.0, JUnit XML.

SARIF (GitHub code scanning, GitLab, Azure DevOps) gets one rule per guardrail and one result per
violation, located at the stack file with the resource's URN as its logical location; a mandatory
violation is level "error", an advisory one "warning". JUnit (Jenkins, GitLab, CircleCI test reports)
gets one test case per rule that passed and one per violation: a mandatory violation is a failure,
an advisory one a passing case with the message in its output, so only what blocks turns red.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from typing import Any

from scaleplane.guardrails import rules

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/scaleplane/scaleplane/blob/main/docs/guardrails.md"


def as_json(stack: str, resources: int, violations: Sequence[rules.Violation]) -> str:
    blocking = [v for v in violations if v.enforcement == "mandatory"]
    return json.dumps(
        {
            "stack": stack,
            "resources": resources,
            "passed": not blocking,
            "mandatory": len(blocking),
            "violations": [
                {
                    "rule": v.rule.id,
                    "enforcement": v.enforcement,
                    "resourceType": v.resource.type if v.resource else None,
                    "resourceName": v.resource.name if v.resource else None,
                    "urn": v.resource.urn if v.resource else None,
                    "message": v.message,
                    "remediation": v.rule.remediation,
                }
                for v in violations
            ],
        },
        indent=2,
    )


def as_sarif(
    stack_file: str, ruleset: Sequence[rules.Rule], violations: Sequence[rules.Violation], version: str
) -> str:
    index = {rule.id: i for i, rule in enumerate(ruleset)}
    driver = {
        "name": "scaleplane check",
        "version": version,
        "informationUri": INFORMATION_URI,
        "rules": [
            {
                "id": rule.id,
                "shortDescription": {"text": rule.description},
                "help": {"text": rule.remediation},
                "defaultConfiguration": {"level": _level(rule.severity)},
            }
            for rule in ruleset
        ],
    }
    results = []
    for v in violations:
        location: dict[str, Any] = {"physicalLocation": {"artifactLocation": {"uri": stack_file}}}
        if v.resource is not None:
            location["logicalLocations"] = [
                {"fullyQualifiedName": v.resource.urn or v.resource.name, "kind": "resource"}
            ]
        results.append(
            {
                "ruleId": v.rule.id,
                "ruleIndex": index.get(v.rule.id, -1),
                "level": _level(v.enforcement),
                "message": {"text": f"{v.subject}: {v.message} Fix: {v.rule.remediation}"},
                "locations": [location],
            }
        )
    run = {"tool": {"driver": driver}, "results": results}
    return json.dumps({"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}, indent=2)


def as_junit(stack: str, ruleset: Sequence[rules.Rule], violations: Sequence[rules.Violation]) -> str:
    suite = ET.Element("testsuite", name=f"scaleplane check {stack}")
    failures = 0
    for rule in ruleset:
        found = [v for v in violations if v.rule.id == rule.id]
        if not found:
            ET.SubElement(suite, "testcase", classname=f"guardrails.{stack}", name=rule.id)
        for v in found:
            case = ET.SubElement(
                suite, "testcase", classname=f"guardrails.{stack}", name=f"{rule.id}: {v.subject}"
            )
            text = f"{v.message}\nfix: {rule.remediation}"
            if v.enforcement == "mandatory":
                failures += 1
                ET.SubElement(case, "failure", message=v.message, type=rule.id).text = text
            else:
                ET.SubElement(case, "system-out").text = f"advisory: {text}"
    suite.set("tests", str(len(suite)))
    suite.set("failures", str(failures))
    suite.set("errors", "0")
    root = ET.Element(
        "testsuites", name="scaleplane check", tests=suite.get("tests", "0"), failures=str(failures)
    )
    root.append(suite)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True)


def _level(enforcement: str) -> str:
    return {"mandatory": "error", "advisory": "warning"}.get(enforcement, "none")
