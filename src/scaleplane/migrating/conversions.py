"""What a conversion gives back, the error it raises, and the pieces HPA and KEDA objects share."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from kubernetes.utils import quantity

from scaleplane.scaling import specs

API_VERSION = "scaleplane.io/v1alpha1"


class ConversionError(ValueError):
    """The document cannot become a ScalingPolicy; the message names the field and the value."""


@dataclass
class Conversion:
    source_kind: str
    name: str
    manifest: dict[str, Any]  # a ScalingPolicy manifest, validated by the spec model
    notes: list[str] = field(default_factory=list)  # what was not carried over, or carried approximately


def number(value: Any, where: str) -> float:
    """A Kubernetes quantity (`10k`, `500m`, `1.5`, `512Mi`) or a KEDA string number, as a float."""
    try:
        parsed: Decimal = quantity.parse_quantity(str(value))  # type: ignore[no-untyped-call]
        return float(parsed)
    except (ValueError, TypeError, InvalidOperation):
        try:
            return float(Decimal(str(value)))
        except InvalidOperation:
            raise ConversionError(f"{where}: not a number or quantity, was {value!r}") from None


def mapping(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConversionError(f"{where}: expected a mapping, was {value!r}")
    return value


def target_ref(ref: Any, where: str) -> dict[str, str]:
    ref = mapping(ref, where)
    if not ref.get("name"):
        raise ConversionError(f"{where}.name: is required")
    return {
        "apiVersion": str(ref.get("apiVersion") or "apps/v1"),
        "kind": str(ref.get("kind") or "Deployment"),
        "name": str(ref["name"]),
    }


def metric_name(raw: str, taken: set[str]) -> str:
    """A unique metric name in the spec's alphabet (letters, digits, `_`, `-`), from a source's name."""
    base = "".join(ch if ch.isalnum() or ch in "_-" else "_" for ch in raw) or "metric"
    if not (base[0].isalpha() or base[0] == "_"):
        base = f"m_{base}"
    base = base[:60]
    name, index = base, 2
    while name in taken:
        name, index = f"{base}-{index}", index + 1
    taken.add(name)
    return name


def finish(kind: str, metadata: dict[str, Any], spec: dict[str, Any], notes: list[str]) -> Conversion:
    """Validate the spec with the operator's own model, so an imported policy is one it accepts."""
    name = str(metadata.get("name") or "imported")
    try:
        specs.parse_policy(spec)
    except specs.PolicyError as exc:
        raise ConversionError(f"the converted policy is not valid: {'; '.join(exc.problems)}") from None
    meta = {"name": name, **({"namespace": metadata["namespace"]} if metadata.get("namespace") else {})}
    manifest = {"apiVersion": API_VERSION, "kind": "ScalingPolicy", "metadata": meta, "spec": spec}
    return Conversion(kind, name, manifest, notes)
