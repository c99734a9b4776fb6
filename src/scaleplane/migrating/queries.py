"""PromQL for what the HPA and KEDA read through the metrics APIs, over the series the stacks export.

CPU and memory come from cAdvisor (`container_cpu_usage_seconds_total`, `container_memory_working_set_bytes`)
and kube-state-metrics (`kube_pod_container_resource_requests`), both deployed by kube-prometheus-stack.

Utilization is expressed in "pod-percent": 100 × total usage / the average request of one pod. Held at
`averageUtilization` as an AverageValue target, the engine's ceil(value / target) is then the HPA's
ceil(pods × utilization / target). What this does not reproduce of the HPA's replica calculator
(kubernetes pkg/controller/podautoscaler/replica_calculator.go): pods without metrics counted at 0 or
100 %, unready pods and the CPU initialization period, the integer rounding of utilization. Every
conversion says so in its notes.
"""

from __future__ import annotations

from typing import Any

from scaleplane.migrating import conversions

RATE_WINDOW = "2m"
USAGE = {"cpu": "container_cpu_usage_seconds_total", "memory": "container_memory_working_set_bytes"}


def pod_pattern(target: dict[str, str]) -> str:
    """The names of the target's pods: Deployment pods are NAME-<ReplicaSet hash>-<suffix>."""
    name = target["name"]
    if target["kind"] == "Deployment":
        return f"{name}-[a-z0-9]+-[a-z0-9]+"
    if target["kind"] == "StatefulSet":
        return f"{name}-[0-9]+"
    return f"{name}-.*"


def _pods(namespace: str, target: dict[str, str]) -> str:
    return f'namespace="{namespace}",pod=~"{pod_pattern(target)}"'


def resource_usage(resource: str, namespace: str, target: dict[str, str], container: str | None) -> str:
    """Total usage of the target's pods: CPU in cores, memory in bytes."""
    if resource not in USAGE:
        raise conversions.ConversionError(f"resource: only cpu and memory can be converted, was {resource!r}")
    only = f'container="{container}"' if container else 'container!="",container!="POD"'
    selector = f"{{{_pods(namespace, target)},{only}}}"
    if resource == "cpu":
        return f"sum(rate({USAGE['cpu']}{selector}[{RATE_WINDOW}]))"
    return f"sum({USAGE['memory']}{selector})"


def resource_utilization(resource: str, namespace: str, target: dict[str, str], container: str | None) -> str:
    only = f',container="{container}"' if container else ""
    requests = (
        f'kube_pod_container_resource_requests{{{_pods(namespace, target)},resource="{resource}"{only}}}'
    )
    per_pod = f"(sum({requests}) / count(count by (pod) ({requests})))"
    return f"100 * {resource_usage(resource, namespace, target, container)} / {per_pod}"


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
