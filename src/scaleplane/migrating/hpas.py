"""An `autoscaling/v2` HorizontalPodAutoscaler as a ScalingPolicy.

| HPA | ScalingPolicy |
|---|---|
| scaleTargetRef, minReplicas (default 1), maxReplicas | the same fields |
| behavior (scaleUp/scaleDown: windows, selectPolicy, policies, tolerance) | `behavior`, as it is |
| Resource cpu/memory, Utilization or AverageValue | `type: Resource`, the same `resource` |
| ContainerResource cpu/memory | `type: Resource` with `resource.container` |
| Pods metric M, AverageValue | `sum(M{namespace, pod=~target's pods, selector})`, AverageValue |
| Object metric M of object O, Value/AverageValue | `sum(M{namespace, <kind>="<O>", selector})`, same type |
| External metric M, Value or AverageValue | `sum(M{selector})`, the same target type |

Pods, Object and External metrics arrive at the HPA through an adapter (prometheus-adapter, KEDA) that
maps Prometheus series to API names; the query assumes the series is the metric's name with `-` as `_`
and the adapter's default labels, and the notes say to check it against the adapter's rules.
`autoscaling/v2beta2` has the same shape and is accepted too.
"""

from __future__ import annotations

from typing import Any

from scaleplane.migrating import conversions, queries

API_VERSIONS = ("autoscaling/v2", "autoscaling/v2beta2")
CONTROLLER_FLAGS = (
    "{what}: computed by the HPA's replica calculator from kube-state-metrics and cAdvisor series, with "
    "the HPA controller's default flags (tolerance 0.1, CPU initialization period 300 s, readiness "
    "delay 30 s); pods picked by the target's selector"
)


def convert(document: dict[str, Any]) -> conversions.Conversion:
    metadata = conversions.mapping(document.get("metadata"), "metadata")
    spec = conversions.mapping(document.get("spec"), "spec")
    namespace = str(metadata.get("namespace") or "default")
    target = conversions.target_ref(spec.get("scaleTargetRef"), "spec.scaleTargetRef")
    if "maxReplicas" not in spec:
        raise conversions.ConversionError("spec.maxReplicas: is required")
    notes: list[str] = []
    taken: set[str] = set()
    metrics = [
        metric
        for index, item in enumerate(spec.get("metrics") or [])
        if (
            metric := _metric(
                conversions.mapping(item, f"spec.metrics[{index}]"), index, namespace, target, taken, notes
            )
        )
    ]
    if not spec.get("metrics"):  # the HPA's default: 80 % CPU
        notes.append("spec.metrics: none given; the HPA's default (cpu Utilization 80 %) is used")
        metrics.append(
            resource_metric(
                {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}},
                "spec.metrics",
                namespace,
                target,
                None,
                taken,
                notes,
            )
        )
    if not metrics:
        raise conversions.ConversionError("spec.metrics: none of the metrics could be converted")
    policy: dict[str, Any] = {
        "targetRef": target,
        "minReplicas": int(spec.get("minReplicas", 1)),
        "maxReplicas": int(spec["maxReplicas"]),
        "metrics": metrics,
    }
    if spec.get("behavior"):
        policy["behavior"] = conversions.mapping(spec["behavior"], "spec.behavior")
    return conversions.finish("HorizontalPodAutoscaler", metadata, policy, notes)


def _metric(
    item: dict[str, Any],
    index: int,
    namespace: str,
    target: dict[str, str],
    taken: set[str],
    notes: list[str],
) -> dict[str, Any] | None:
    where = f"spec.metrics[{index}]"
    kind = item.get("type")
    if kind in ("Resource", "ContainerResource"):
        body = conversions.mapping(item.get("resource" if kind == "Resource" else "containerResource"), where)
        return resource_metric(body, where, namespace, target, body.get("container"), taken, notes)
    if kind not in ("Pods", "Object", "External"):
        notes.append(f"{where}: metric type {kind!r} is not known; left out")
        return None
    body = conversions.mapping(item.get(kind.lower()), f"{where}.{kind.lower()}")
    metric = conversions.mapping(body.get("metric"), f"{where}.{kind.lower()}.metric")
    raw = str(metric.get("name") or "")
    if not raw:
        raise conversions.ConversionError(f"{where}.{kind.lower()}.metric.name: is required")
    matchers = queries.label_matchers(metric.get("selector"), f"{where}.{kind.lower()}.metric.selector")
    if kind == "Pods":
        matchers = [f'namespace="{namespace}"', f'pod=~"{queries.pod_pattern(target)}"', *matchers]
    if kind == "Object":
        described = conversions.mapping(body.get("describedObject"), f"{where}.object.describedObject")
        matchers = [
            f'namespace="{namespace}"',
            f'{str(described.get("kind", "")).lower()}="{described.get("name")}"',
            *matchers,
        ]
    series = queries.series_name(raw)
    notes.append(
        f"{where}: the {kind} metric {raw!r} came through a metrics adapter; the query reads the Prometheus "
        f"series {series} with labels {', '.join(matchers) or 'none'}: check them against the adapter's rules"
    )
    goal = conversions.mapping(body.get("target"), f"{where}.{kind.lower()}.target")
    kind_of_target = "AverageValue" if kind == "Pods" else str(goal.get("type") or "")
    field = "averageValue" if kind_of_target == "AverageValue" else "value"
    if kind_of_target not in ("Value", "AverageValue") or field not in goal:
        raise conversions.ConversionError(
            f"{where}.{kind.lower()}.target: needs Value with value or AverageValue with averageValue, "
            f"was {goal!r}"
        )
    return {
        "name": conversions.metric_name(raw, taken),
        "query": f"sum({series}{{{','.join(matchers)}}})",
        "target": {
            "type": kind_of_target,
            "value": conversions.number(goal[field], f"{where}.target.{field}"),
        },
    }


def resource_metric(
    body: dict[str, Any],
    where: str,
    namespace: str,
    target: dict[str, str],
    container: str | None,
    taken: set[str],
    notes: list[str],
) -> dict[str, Any]:
    """An HPA (Container)Resource metric, or a KEDA cpu/memory trigger, as a `type: Resource` metric."""
    del namespace, target  # the operator reads the pods of the policy's own target, in its namespace
    resource = str(body.get("name") or "")
    if resource not in ("cpu", "memory"):
        raise conversions.ConversionError(f"{where}: only cpu and memory can be converted, was {resource!r}")
    goal = conversions.mapping(body.get("target"), f"{where}.target")
    notes.append(
        CONTROLLER_FLAGS.format(
            what=f"{where} ({resource}{f' of container {container}' if container else ''})"
        )
    )
    if goal.get("type") == "Utilization" and "averageUtilization" in goal:
        percent = conversions.number(goal["averageUtilization"], f"{where}.target.averageUtilization")
        if percent != int(percent) or percent < 1:
            raise conversions.ConversionError(
                f"{where}.target.averageUtilization: must be a whole percentage >= 1, "
                f"was {goal['averageUtilization']!r}"
            )
        level: dict[str, Any] = {"type": "Utilization", "averageUtilization": int(percent)}
    elif goal.get("type") == "AverageValue" and "averageValue" in goal:
        raw = goal["averageValue"]
        conversions.number(raw, f"{where}.target.averageValue")  # a quantity, or an error naming it
        level = {"type": "AverageValue", "averageValue": raw if isinstance(raw, int) else str(raw)}
    else:
        raise conversions.ConversionError(
            f"{where}.target: needs Utilization with averageUtilization or AverageValue with averageValue, "
            f"was {goal!r}"
        )
    source: dict[str, Any] = {"name": resource, "target": level}
    if container:
        source["container"] = str(container)
    return {
        "name": conversions.metric_name(f"{resource}_{container}" if container else resource, taken),
        "type": "Resource",
        "resource": source,
    }
