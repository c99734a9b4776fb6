"""Alerting rules: every alert the stack deploys links a runbook that exists in this project.

A PrometheusRule's alerts carry `annotations.runbook_url`, a path from the project root
(`runbooks/<alert-name>.md`, as scaleplane.observability writes them), or a URL to the repository's
copy ending in that path (`monitoring.runbookBaseUrl`): either way the file must be in the project.
The on-call engineer who is paged at night follows that link; an alert without one, or with one to a
file that was renamed or never written, leaves them guessing. This is the pack's one check that looks
at the disk (whether a file exists is the question). The root is the setting `projectRoot`, which
`scaleplane check` fills in; left empty, it is the nearest folder holding Pulumi.yaml from the working
directory up (the policy pack runs from policies/, one below it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from scaleplane.guardrails import rules

PROMETHEUS_RULE = "kubernetes:monitoring.coreos.com/v1:PrometheusRule"


def _alerts(resource: rules.Resource) -> Iterable[tuple[str, dict[str, Any]]]:
    for group in (resource.get("spec") or {}).get("groups") or []:
        for rule in group.get("rules") or []:
            if isinstance(rule, dict) and rule.get("alert"):
                yield str(group.get("name")), rule


def project_root(given: str, start: Path | None = None) -> Path:
    if given:
        return Path(given)
    here = (start or Path.cwd()).resolve()
    return next((folder for folder in (here, *here.parents) if (folder / "Pulumi.yaml").is_file()), here)


def _runbooks(resource: rules.Resource, settings: Mapping[str, Any]) -> Iterable[str]:
    root = project_root(str(settings.get("projectRoot") or ""))
    for group, rule in _alerts(resource):
        url = str((rule.get("annotations") or {}).get("runbook_url") or "")
        where = f"alert {rule['alert']!r} (group {group})"
        if not url:
            yield f"{where} has no runbook_url annotation"
            continue
        path = _project_path(url)
        if path is None:
            yield f"{where} links {url!r}: not a file of this project (runbooks/<alert>.md)"
        elif not (root / path).is_file():
            yield f"{where} links {url!r}, which does not exist under {root}"


def _project_path(url: str) -> str | None:
    """The project file a runbook_url names: the path itself, or a URL's part from `runbooks/` on (a
    `monitoring.runbookBaseUrl` link to the repository); None for a link to anywhere else."""
    if "://" not in url:
        return None if url.startswith("/") else url
    at = url.rfind("/runbooks/")
    return url[at + 1 :] if at >= 0 else None


RULES = (
    rules.Rule(
        id="alert-runbook-exists",
        severity="mandatory",
        description="Every alert the stack deploys has a runbook_url to a runbook that exists.",
        remediation=(
            "Write the runbook at the path the alert names (runbooks/<alert-name-in-kebab-case>.md: what it "
            "means, how to check, what to do), or fix the alert's runbook_url annotation."
        ),
        resource_types=(PROMETHEUS_RULE,),
        check=_runbooks,
        thresholds={
            "projectRoot": {
                "type": "string",
                "default": "",
                "description": (
                    "The directory runbook_url paths are relative to; empty: the nearest folder with a "
                    "Pulumi.yaml, from the working directory up."
                ),
            }
        },
    ),
)
