"""PromQL for what the HPA reads through a metrics adapter (Pods, Object and External metrics).

CPU and memory are not queries any more: they become `type: Resource` metrics (hpas.resource_metric),
which the operator computes with the HPA's own replica calculator from kube-state-metrics and cAdvisor.
"""

from __future__ import annotations

from typing import Any

from scaleplane.migrating import conversions


def pod_pattern(target: dict[str, str]) -> str:
    """The names of the target's pods: Deployment pods are NAME-<ReplicaSet hash>-<suffix>."""
    name = target["name"]
    if target["kind"] == "Deployment":
        return f"{name}-[a-z0-9]+-[a-z0-9]+"
    if target["kind"] == "StatefulSet":
        return f"{name}-[0-9]+"
    return f"{name}-.*"


def series_name(raw: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "_:" else "_" for ch in raw)


def label_matchers(selector: Any, where: str) -> list[str]:
    """A Kubernetes label selector (matchLabels/matchExpressions, or `a=b,c=d` text) as PromQL matchers."""
    if selector is None:
        return []
    if isinstance(selector, str):
        pairs = [part.split("=", 1) for part in selector.split(",") if part.strip()]
        if any(len(pair) != 2 for pair in pairs):
            raise conversions.ConversionError(f"{where}: expected key=value pairs, was {selector!r}")
        return [f'{series_name(k.strip())}="{v.strip()}"' for k, v in pairs]
    selector = conversions.mapping(selector, where)
    matchers = [f'{series_name(k)}="{v}"' for k, v in (selector.get("matchLabels") or {}).items()]
    for expression in selector.get("matchExpressions") or []:
        key, operator = series_name(str(expression.get("key"))), expression.get("operator")
        values = "|".join(str(v) for v in expression.get("values") or [])
        matchers.append(
            {
                "In": f'{key}=~"{values}"',
                "NotIn": f'{key}!~"{values}"',
                "Exists": f'{key}!=""',
                "DoesNotExist": f'{key}=""',
            }.get(str(operator), "")
            or _bad_operator(where, operator)
        )
    return matchers


def _bad_operator(where: str, operator: Any) -> str:
    raise conversions.ConversionError(f"{where}.matchExpressions: unknown operator {operator!r}")
