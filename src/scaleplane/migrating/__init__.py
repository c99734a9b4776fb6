"""Other autoscalers' objects turned into ScalingPolicies: the HPA (autoscaling/v2) and KEDA's ScaledObject.

Rule: adapter layer, no I/O: a document (a parsed YAML mapping) in, a `conversions.Conversion` out, with
every field that could not be carried over named in `notes`. Reading files and printing is the CLI's.
Quantities (`500m`, `1k`, `512Mi`) are parsed by the Kubernetes client's own parser.
"""

from __future__ import annotations

from typing import Any

from scaleplane.migrating import conversions, hpas, scaledobjects


def convert(document: dict[str, Any]) -> conversions.Conversion | None:
    """The ScalingPolicy for an HPA or a ScaledObject; None for a document of any other kind."""
    kind, api_version = document.get("kind"), document.get("apiVersion")
    if kind == "HorizontalPodAutoscaler" and api_version in hpas.API_VERSIONS:
        return hpas.convert(document)
    if kind == "HorizontalPodAutoscaler":
        raise conversions.ConversionError(
            f"apiVersion: only {' and '.join(hpas.API_VERSIONS)} HPAs convert, was {api_version!r}"
        )
    if kind == "ScaledObject" and api_version == scaledobjects.API_VERSION:
        return scaledobjects.convert(document)
    return None
