"""A KEDA `ScaledObject` (keda.sh/v1alpha1) with prometheus, cpu and memory triggers as a ScalingPolicy.

| ScaledObject | ScalingPolicy |
|---|---|
| scaleTargetRef (name; kind, apiVersion) | targetRef (Deployment, apps/v1 when not given) |
| minReplicaCount (default 0), maxReplicaCount (default 100) | minReplicas, maxReplicas |
| cooldownPeriod (default 300) | cooldownSeconds: the same "last active + cooldown" rule for going to 0 |
| fallback {failureThreshold, replicas} | fallback {failureThreshold, action: replicas, replicas} |
| advanced.horizontalPodAutoscalerConfig.behavior | behavior, field for field |
| prometheus: query, threshold, activationThreshold, metricType | query, target, activationThreshold |
| cpu / memory: metricType, value, containerName | `type: Resource`, as the HPA's (hpas.py) |

Not carried, and named in the notes when present: serverAddress and the Prometheus connection options
(the operator reads the Prometheus it is configured with), authenticationRef, pollingInterval (one tick
for all policies), idleReplicaCount, initialCooldownPeriod, scalingModifiers, cpu/memory
activationValue, and triggers of any other type.
"""

from __future__ import annotations

from typing import Any

from scaleplane.migrating import conversions, hpas

API_VERSION = "keda.sh/v1alpha1"
PROMETHEUS_OPTIONS = (
    "serverAddress",
    "namespace",
    "customHeaders",
    "ignoreNullValues",
    "queryParameters",
    "unsafeSsl",
    "authModes",
)
NOT_CARRIED = ("pollingInterval", "idleReplicaCount", "initialCooldownPeriod")


def convert(document: dict[str, Any]) -> conversions.Conversion:
    metadata = conversions.mapping(document.get("metadata"), "metadata")
    spec = conversions.mapping(document.get("spec"), "spec")
    namespace = str(metadata.get("namespace") or "default")
    target = conversions.target_ref(spec.get("scaleTargetRef"), "spec.scaleTargetRef")
    notes = [f"spec.{key}: {spec[key]!r} not carried over" for key in NOT_CARRIED if key in spec]
    taken: set[str] = set()
    metrics = []
    for index, item in enumerate(spec.get("triggers") or []):
        trigger = conversions.mapping(item, f"spec.triggers[{index}]")
        metric = _trigger(trigger, f"spec.triggers[{index}]", namespace, target, taken, notes)
        if metric is not None:
            metrics.append(metric)
    if not metrics:
        raise conversions.ConversionError(
            "spec.triggers: no prometheus, cpu or memory trigger to convert"
            + (f" ({'; '.join(notes)})" if notes else "")
        )
    minimum = int(spec.get("minReplicaCount", 0))
    kinds = {(conversions.mapping(t, "spec.triggers[]")).get("type") for t in spec.get("triggers") or []}
    if minimum == 0 and kinds <= {"cpu", "memory"}:
        # At 0 pods there is no CPU or memory to read, so nothing would ever wake the target: KEDA
        # refuses to scale to zero on these triggers alone, and so does the converted policy.
        minimum = 1
        notes.append(
            "spec.minReplicaCount: 0 with only cpu/memory triggers cannot wake from zero; minReplicas 1"
        )
    policy: dict[str, Any] = {
        "targetRef": target,
        "minReplicas": minimum,
        "maxReplicas": int(spec.get("maxReplicaCount", 100)),
        "metrics": metrics,
        "cooldownSeconds": int(spec.get("cooldownPeriod", 300)),
    }
    fallback = conversions.mapping(spec.get("fallback"), "spec.fallback")
    if fallback:
        policy["fallback"] = {
            "failureThreshold": int(fallback.get("failureThreshold", 3)),
            "action": "replicas",
            "replicas": int(fallback.get("replicas", 0)),
        }
    advanced = conversions.mapping(spec.get("advanced"), "spec.advanced")
    hpa = conversions.mapping(advanced.get("horizontalPodAutoscalerConfig"), "spec.advanced.hpaConfig")
    if hpa.get("behavior"):
        policy["behavior"] = conversions.mapping(hpa["behavior"], "spec.advanced.hpaConfig.behavior")
    notes += [
        f"spec.advanced.{key}: not carried over" for key in advanced if key != "horizontalPodAutoscalerConfig"
    ]
    return conversions.finish("ScaledObject", metadata, policy, notes)


def _trigger(
    trigger: dict[str, Any],
    where: str,
    namespace: str,
    target: dict[str, str],
    taken: set[str],
    notes: list[str],
) -> dict[str, Any] | None:
    kind = trigger.get("type")
    meta = conversions.mapping(trigger.get("metadata"), f"{where}.metadata")
    if trigger.get("authenticationRef"):
        notes.append(
            f"{where}.authenticationRef: not carried over (the operator's own Prometheus access is used)"
        )
    if kind == "prometheus":
        for key in PROMETHEUS_OPTIONS:
            if key in meta:
                notes.append(
                    f"{where}.metadata.{key}: {meta[key]!r} not carried over "
                    "(the operator reads its own Prometheus)"
                )
        if not meta.get("query") or "threshold" not in meta:
            raise conversions.ConversionError(
                f"{where}.metadata: a prometheus trigger needs query and threshold"
            )
        metric_type = str(trigger.get("metricType") or "AverageValue")
        if metric_type not in ("Value", "AverageValue"):
            raise conversions.ConversionError(
                f"{where}.metricType: must be Value or AverageValue, was {metric_type!r}"
            )
        return {
            "name": conversions.metric_name(str(trigger.get("name") or "prometheus"), taken),
            "query": str(meta["query"]),
            "target": {
                "type": metric_type,
                "value": conversions.number(meta["threshold"], f"{where}.metadata.threshold"),
            },
            "activationThreshold": conversions.number(
                meta.get("activationThreshold", 0), f"{where}.metadata.activationThreshold"
            ),
        }
    if kind in ("cpu", "memory"):
        metric_type = str(trigger.get("metricType") or meta.get("type") or "")
        if metric_type not in ("Utilization", "AverageValue") or "value" not in meta:
            raise conversions.ConversionError(
                f"{where}: a {kind} trigger needs metricType Utilization or AverageValue and metadata.value"
            )
        if "activationValue" in meta:
            notes.append(
                f"{where}.metadata.activationValue: not carried over "
                "(a Resource metric has no activation: cpu and memory never wake a target)"
            )
        goal = {
            "type": metric_type,
            "averageUtilization" if metric_type == "Utilization" else "averageValue": meta["value"],
        }
        body = {"name": kind, "target": goal}
        return hpas.resource_metric(
            body, where, namespace, target, meta.get("containerName") or None, taken, notes
        )
    notes.append(
        f"{where}: a {kind!r} trigger is not carried over "
        "(scaleplane reads Prometheus: export its metric there and add the query)"
    )
    return None
