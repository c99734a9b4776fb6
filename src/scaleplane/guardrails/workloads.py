"""Kubernetes workload rules (what autoscaling needs of a workload) and ScalingPolicy sanity.

Requests and pinned images are asked of every Deployment and StatefulSet: any of them may be put
under a ScalingPolicy, and both the scheduler and the scaler's per-pod arithmetic need requests. A
workload a ScalingPolicy in the same stack points at also needs a PodDisruptionBudget whose selector
matches its pods, or a node drain can evict every replica at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from scaleplane.guardrails import rules

WORKLOADS = ("kubernetes:apps/v1:Deployment", "kubernetes:apps/v1:StatefulSet")
PDB = "kubernetes:policy/v1:PodDisruptionBudget"
POLICY = "kubernetes:scaleplane.io/v1alpha1:ScalingPolicy"


def _containers(resource: rules.Resource) -> list[dict[str, Any]]:
    pod = ((resource.get("spec") or {}).get("template") or {}).get("spec") or {}
    return [*(pod.get("initContainers") or []), *(pod.get("containers") or [])]


def _requests(resource: rules.Resource, settings: Mapping[str, Any]) -> Iterable[str]:
    for container in _containers(resource):
        requests = (container.get("resources") or {}).get("requests") or {}
        missing = [kind for kind in ("cpu", "memory") if kind not in requests]
        if missing:
            yield f"container {container.get('name')!r} sets no {' and no '.join(missing)} request"


def _pinned_image(resource: rules.Resource, settings: Mapping[str, Any]) -> Iterable[str]:
    for container in _containers(resource):
        image = str(container.get("image") or "")
        last = image.rsplit("/", 1)[-1]
        if "@" in last:
            continue
        tag = last.split(":", 1)[1] if ":" in last else ""
        if tag in ("", "latest"):
            yield f"container {container.get('name')!r} runs {image!r}: an unpinned (`latest`) image"


def _metadata(resource: rules.Resource) -> dict[str, Any]:
    return resource.get("metadata") or {}


def _namespace(resource: rules.Resource) -> str:
    return str(_metadata(resource).get("namespace") or "default")


def _pdb_for_autoscaled(
    resources: Sequence[rules.Resource], settings: Mapping[str, Any]
) -> Iterable[tuple[rules.Resource | None, str]]:
    budgets = [resource for resource in resources if resource.type == PDB]
    workloads = [resource for resource in resources if resource.type in WORKLOADS]
    for policy in (resource for resource in resources if resource.type == POLICY):
        target = (policy.get("spec") or {}).get("targetRef") or {}
        for workload in workloads:
            same_kind = workload.type.rsplit(":", 1)[-1] == target.get("kind")
            if not same_kind or _metadata(workload).get("name") != target.get("name"):
                continue
            if _namespace(workload) != _namespace(policy):
                continue
            labels = (((workload.get("spec") or {}).get("template") or {}).get("metadata") or {}).get(
                "labels"
            ) or {}
            covered = any(
                _namespace(budget) == _namespace(workload)
                and (selector := ((budget.get("spec") or {}).get("selector") or {}).get("matchLabels") or {})
                and all(labels.get(key) == value for key, value in selector.items())
                for budget in budgets
            )
            if not covered:
                yield (
                    workload,
                    f"scaled by ScalingPolicy {_metadata(policy).get('name')!r} "
                    "but no PodDisruptionBudget selects its pods",
                )


def _policy_bounds(resource: rules.Resource, settings: Mapping[str, Any]) -> Iterable[str]:
    spec = resource.get("spec") or {}
    low = rules.number(spec.get("minReplicas", 1), 1)
    high = rules.number(spec.get("maxReplicas"), -1)
    if high < low:
        yield f"maxReplicas {high:g} is below minReplicas {low:g}"
    if high > settings["maxReplicasCeiling"]:
        yield f"maxReplicas {high:g} is above the ceiling of {settings['maxReplicasCeiling']}"


RULES = (
    rules.Rule(
        id="k8s-workload-requests",
        severity="mandatory",
        description="Every container of a Deployment or StatefulSet requests CPU and memory.",
        remediation="Set resources.requests.cpu and .memory on every container.",
        resource_types=WORKLOADS,
        check=_requests,
    ),
    rules.Rule(
        id="k8s-workload-pinned-image",
        severity="mandatory",
        description="Workloads run pinned images (a version tag or a digest, never `latest` or none).",
        remediation="Use image:TAG with a version, or image@sha256:DIGEST.",
        resource_types=WORKLOADS,
        check=_pinned_image,
    ),
    rules.Rule(
        id="k8s-autoscaled-pdb",
        severity="mandatory",
        description="A workload under a ScalingPolicy has a PodDisruptionBudget selecting its pods.",
        remediation="Add a policy/v1 PodDisruptionBudget in the workload's namespace whose selector matches "
        "its pod labels (e.g. maxUnavailable: 25%).",
        stack_check=_pdb_for_autoscaled,
    ),
    rules.Rule(
        id="scalingpolicy-bounds",
        severity="mandatory",
        description="ScalingPolicies have maxReplicas >= minReplicas and within the configured ceiling.",
        remediation="Lower maxReplicas to the ceiling (or raise maxReplicasCeiling deliberately) and keep it "
        ">= minReplicas (scaleplane:operator.*.maxReplicas).",
        resource_types=(POLICY,),
        check=_policy_bounds,
        thresholds={
            "maxReplicasCeiling": {
                "type": "integer",
                "minimum": 1,
                "default": 100,
                "description": "Highest maxReplicas allowed.",
            }
        },
    ),
)
