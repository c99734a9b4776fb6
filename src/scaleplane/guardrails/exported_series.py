"""Every series a ScalingPolicy's query reads is exported by something the stack deploys.

A policy reading a series nobody exports never scales: its query returns no data, the operator holds
the replicas and reports the metric as missing, forever. What a stack exports is read from the plan
itself: the catalog ConfigMaps each exporter component ships (label `scaleplane.io/exporter-catalog`,
one series name per line in `data.series`), the `record:` names of its PrometheusRules, and what
Prometheus makes up on its own (`up`, `scrape_*`, `ALERTS`).

The metric names of a query come from a small PromQL scanner here: PyPI has no maintained Python
PromQL parser (the ones listed are query builders or HTTP clients), and a name is all this rule needs.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping, Sequence

from scaleplane.guardrails import rules
from scaleplane.metrics import pods

POLICY = "kubernetes:scaleplane.io/v1alpha1:ScalingPolicy"
CONFIGMAP = "kubernetes:core/v1:ConfigMap"
PROMETHEUS_RULE = "kubernetes:monitoring.coreos.com/v1:PrometheusRule"
CATALOG_LABEL = "scaleplane.io/exporter-catalog"  # the same as scaleplane.infra.exporter_catalogs'
BUILT_IN = frozenset(
    {"up", "scrape_duration_seconds", "scrape_samples_scraped", "scrape_series_added", "ALERTS"}
    | {"ALERTS_FOR_STATE", "scrape_samples_post_metric_relabeling"}
)
KEYWORDS = frozenset(
    {"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring", "group_left"}
    | {"group_right", "inf", "nan", "start", "end"}
)
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_MATCHERS = re.compile(r"\{[^{}]*\}")
_NAME_MATCHER = re.compile(r"__name__\s*=\s*\"([^\"]+)\"")
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)")
_RANGE = re.compile(r"\[[^\[\]]*\]")
_NUMBER = re.compile(r"(?<![\w:])(?:0x[0-9a-fA-F]+|\d[\d.]*(?:e[+-]?\d+)?[a-z]*)")
_OFFSET = re.compile(r"\b(?:offset|@)\s*-?\S+")
_IDENTIFIER = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")


def metric_names(query: str) -> set[str]:
    """The metric names a PromQL expression selects (`foo{a="b"}`, `{__name__="foo"}`, `rate(foo[5m])`)."""
    names = set(_NAME_MATCHER.findall(query))
    text = _MATCHERS.sub(" ", query)
    text = _STRING.sub(" ", text)
    text = _GROUPING.sub(" ", text)
    text = _RANGE.sub(" ", text)
    text = _OFFSET.sub(" ", text)
    text = _NUMBER.sub(" ", text)
    for match in _IDENTIFIER.finditer(text):
        word = match.group(0)
        rest = text[match.end() :].lstrip()
        if word.lower() in KEYWORDS or rest.startswith("("):
            continue
        names.add(word)
    return names


def exported(resources: Sequence[rules.Resource]) -> set[str]:
    found = set(BUILT_IN)
    for resource in resources:
        metadata = resource.get("metadata") or {}
        if resource.type == CONFIGMAP and CATALOG_LABEL in (metadata.get("labels") or {}):
            series = (resource.get("data") or {}).get("series")
            if isinstance(series, str):
                found |= {line.strip() for line in series.splitlines() if line.strip()}
        if resource.type == PROMETHEUS_RULE:
            for group in (resource.get("spec") or {}).get("groups") or []:
                found |= {rule["record"] for rule in group.get("rules") or [] if rule.get("record")}
    return found


def _policies_read_exported_series(
    resources: Sequence[rules.Resource], settings: Mapping[str, object]
) -> Iterable[tuple[rules.Resource | None, str]]:
    available = exported(resources)
    for policy in (resource for resource in resources if resource.type == POLICY):
        name = (policy.get("metadata") or {}).get("name") or policy.name
        for metric in (policy.get("spec") or {}).get("metrics") or []:
            resource = (
                (metric.get("resource") or {}).get("name") if metric.get("type") == "Resource" else None
            )
            if resource in ("cpu", "memory"):  # no query: the per-pod series the operator reads for it
                needed = {n for q in pods.queries({"any"}, {str(resource)}).values() for n in metric_names(q)}
                if needed - available:
                    missing = ", ".join(sorted(needed - available))
                    yield (
                        policy,
                        f"ScalingPolicy {name!r}, metric {metric.get('name')!r}: a Resource {resource} "
                        f"metric reads {missing} (kube-state-metrics and cAdvisor), which nothing in this "
                        "stack exports",
                    )
                continue
            query = metric.get("query")
            if not isinstance(query, str) or query == rules.COMPUTED:
                continue
            for series in sorted(metric_names(query) - available):
                close = difflib.get_close_matches(series, sorted(available), n=2, cutoff=0.5)
                hint = f"; did you mean {' or '.join(close)}?" if close else ""
                yield (
                    policy,
                    f"ScalingPolicy {name!r}, metric {metric.get('name')!r}: the query {query!r} reads "
                    f"{series}, which nothing in this stack exports{hint}",
                )


RULES = (
    rules.Rule(
        id="scalingpolicy-series-exported",
        severity="mandatory",
        description="Every series a ScalingPolicy's query reads is published by an exporter of the stack.",
        remediation="Use a series the stack's exporters publish (kubectl get configmap -n monitoring -l "
        "scaleplane.io/exporter-catalog; docs/infrastructure.md lists them), or leave "
        "scaleplane:operator.*.query empty for the stack's default; or deploy the exporter that publishes it "
        "with its catalog (docs/infrastructure.md, 'Adding an exporter').",
        stack_check=_policies_read_exported_series,
    ),
)
