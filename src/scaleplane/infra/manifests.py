"""A planned stack's Kubernetes objects as the manifests `pulumi up` would apply, to read, diff or apply.

Every `kubernetes:<group>/<version>:<Kind>` resource of the offline plan becomes one object (its
recorded inputs are the object: apiVersion, kind, metadata, spec...), in apply order: Namespaces and
CRDs first, custom resources (ScalingPolicies, PodMonitors, CNPG Clusters) last.

What cannot be rendered, and how it is handed over instead:
- Helm releases (kube-prometheus-stack, CloudNativePG, the Redis chart): their objects come from charts
  that are not here. Each release is kept as its chart, version, repository, namespace and values,
  which is what `helm install` needs. The objects such a chart creates (the Redis chart's
  ServiceMonitor, CloudNativePG's pods) are not among the manifests; the ones this project declares
  itself (our PodMonitors, the CNPG `Cluster`) are.
- objects holding a generated secret or a value only the cloud computes: the plan masks those
  (mocking.SECRET, mocking.COMPUTED); writing the mask as a password would be a wrong manifest, so
  they are listed as withheld, with the reason.
Auto-named objects (no metadata.name; Pulumi would add a random suffix) take their resource's name.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from scaleplane.infra import mocking

HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
HEAD = ("apiVersion", "kind", "metadata")  # the keys a manifest is read by, first
MARKER = ".scaleplane-manifests"  # a folder holding it is a rendering of ours: safe to replace
# Apply order, as Helm installs: what others live in or refer to comes first; unknown kinds after these.
ORDER = (
    "Namespace",
    "CustomResourceDefinition",
    "ServiceAccount",
    "Secret",
    "ConfigMap",
    "ClusterRole",
    "ClusterRoleBinding",
    "Role",
    "RoleBinding",
    "Service",
    "Deployment",
    "StatefulSet",
    "PodDisruptionBudget",
)


@dataclass(frozen=True)
class Release:
    """A Helm release the stack installs: everything `helm install` needs, nothing rendered."""

    name: str
    chart: str
    version: str
    repository: str
    namespace: str
    values: dict[str, Any]

    def install_command(self, values_file: str) -> str:
        return (
            f"helm install {self.name} {self.chart} --repo {self.repository} --version {self.version} "
            f"--namespace {self.namespace} --create-namespace -f {values_file}"
        )


@dataclass
class Rendering:
    objects: list[dict[str, Any]] = field(default_factory=list)  # in apply order
    releases: list[Release] = field(default_factory=list)
    withheld: dict[str, str] = field(default_factory=dict)  # Pulumi resource name -> why

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [obj for obj in self.objects if obj["kind"] == kind]


def render(resources: list[mocking.PlannedResource]) -> Rendering:
    """The Kubernetes objects and Helm releases among a plan's resources."""
    rendering = Rendering()
    for resource in resources:
        if resource.type == HELM_RELEASE:
            masked = _masked(resource.inputs.get("values"))
            if masked:
                rendering.withheld[resource.name] = f"its values hold {masked} at plan time"
            else:
                rendering.releases.append(_release(resource))
        elif resource.type.startswith("kubernetes:") and "kind" in resource.inputs:
            masked = _masked(resource.inputs)
            if masked:
                rendering.withheld[resource.name] = f"it holds {masked} at plan time"
                continue
            inputs: dict[str, Any] = copy.deepcopy(resource.inputs)
            head: dict[str, Any] = {k: inputs.pop(k) for k in HEAD if k in inputs}
            obj: dict[str, Any] = {**head, **inputs}  # the order a manifest is read in
            obj.setdefault("metadata", {}).setdefault("name", resource.name)
            rendering.objects.append(obj)
    # Deterministic, so two renderings diff cleanly (Pulumi registers resources in no fixed order).
    rendering.objects.sort(key=_rank)
    rendering.releases.sort(key=lambda release: release.name)
    return rendering


def _rank(obj: dict[str, Any]) -> tuple[int, str, str, str]:
    kind, metadata = obj["kind"], obj["metadata"]
    if kind in ORDER:
        rank = ORDER.index(kind)
    else:
        rank = len(ORDER) + (1 if "." in obj["apiVersion"].split("/")[0] else 0)  # custom resources last
    return rank, kind, metadata.get("namespace") or "", metadata["name"]


def _masked(value: Any) -> str:
    """'a generated secret' / 'a cloud-computed value' when the plan masked part of `value`, else ''."""
    if value == mocking.SECRET:
        return "a generated secret"
    if value == mocking.COMPUTED:
        return "a cloud-computed value"
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    return next((found for item in items if (found := _masked(item))), "")


def _release(resource: mocking.PlannedResource) -> Release:
    inputs = resource.inputs
    return Release(
        name=str(inputs.get("name") or resource.name),
        chart=str(inputs.get("chart", "")),
        version=str(inputs.get("version", "")),
        repository=str((inputs.get("repositoryOpts") or {}).get("repo", "")),
        namespace=str(inputs.get("namespace") or "default"),
        values=inputs.get("values") or {},
    )


def file_name(index: int, obj: dict[str, Any]) -> str:
    """`004-serviceaccount-scaleplane-system-scaleplane-operator.yaml`: `kubectl apply -f DIR` applies
    files in name order, so the number keeps the apply order."""
    metadata = obj["metadata"]
    parts = [obj["kind"].lower(), metadata.get("namespace") or "", metadata["name"]]
    return f"{index:03d}-" + "-".join(part for part in parts if part).replace("/", "-") + ".yaml"


def to_yaml(obj: Any) -> str:
    return yaml.safe_dump(obj, sort_keys=False, default_flow_style=False)


class NotOurFolder(ValueError):
    pass


def check_folder(directory: Path) -> None:
    """NotOurFolder unless `directory` is new, empty or an earlier rendering (before planning: fail fast)."""
    if directory.is_dir() and any(directory.iterdir()) and not (directory / MARKER).is_file():
        raise NotOurFolder(f"{directory} is not empty and holds no earlier rendering ({MARKER})")


def write(rendering: Rendering, directory: Path) -> list[Path]:
    """Write the objects (one file each) and the releases' values (helm/NAME.values.yaml, beside an
    install command), replacing an earlier rendering there. Refuses a non-empty folder of someone
    else's (NotOurFolder); OSError as it comes."""
    check_folder(directory)
    directory.mkdir(parents=True, exist_ok=True)
    for stale in [*directory.glob("*.yaml"), *directory.glob("helm/*.yaml")]:
        stale.unlink()
    (directory / MARKER).write_text("written by `scaleplane plan --manifests`; rewritten on each run\n")
    written = []
    for index, obj in enumerate(rendering.objects):
        path = directory / file_name(index, obj)
        path.write_text(to_yaml(obj))
        written.append(path)
    if rendering.releases:
        (directory / "helm").mkdir(exist_ok=True)
    for release in rendering.releases:
        path = directory / "helm" / f"{release.name}.values.yaml"
        header = f"# {release.install_command(str(path))}\n"
        path.write_text(header + to_yaml(release.values))
        written.append(path)
    return written
