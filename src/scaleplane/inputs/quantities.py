"""Kubernetes resource quantities (`250m`, `256Mi`, `20Gi`, `1.5`, `1e3`) understood or refused by name.

The API server's grammar (k8s.io/apimachinery resource.Quantity): a signed decimal number, then a
binary suffix (Ki Mi Gi Ti Pi Ei), a decimal suffix (n u m k M G T P E) or a decimal exponent
(e3, E-2). `20GB` or `256mb` are not quantities; the API server refuses them at apply time, long
after a plan that looked fine, so they are refused here with the nearest spelling.
"""

from __future__ import annotations

import re
from decimal import Decimal

_QUANTITY = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?\d+)?$")
_NEAR = {
    "kb": "k or Ki",
    "mb": "M or Mi",
    "gb": "G or Gi",
    "tb": "T or Ti",
    "kib": "Ki",
    "mib": "Mi",
    "gib": "Gi",
}


def check(text: str) -> str:
    """`text` if it is a Kubernetes quantity, else a ValueError that names the accepted form."""
    if _QUANTITY.match(text):
        return text
    unit = re.sub(r"^[+-]?[\d.]+", "", text).lower()
    hint = f"; for {unit!r} write {_NEAR[unit]}" if unit in _NEAR else ""
    raise ValueError(f"not a Kubernetes quantity (e.g. 250m, 256Mi, 20Gi){hint}")


_SUFFIX = {
    **{s: Decimal(1024) ** (i + 1) for i, s in enumerate(("Ki", "Mi", "Gi", "Ti", "Pi", "Ei"))},
    **{s: Decimal(10) ** e for s, e in (("n", -9), ("u", -6), ("m", -3), ("k", 3), ("M", 6), ("G", 9))},
    **{s: Decimal(10) ** e for s, e in (("T", 12), ("P", 15), ("E", 18))},
}


def value_of(quantity: int | float | str) -> float:
    """A quantity's value as a float (`500m` -> 0.5, `512Mi` -> 536870912.0). Written here, not taken
    from the Kubernetes client's parser, because this layer is pure and imports no client package."""
    if not isinstance(quantity, str):
        return float(quantity)
    text = check(quantity)
    for suffix in sorted(_SUFFIX, key=len, reverse=True):
        if text.endswith(suffix):
            return float(Decimal(text[: -len(suffix)]) * _SUFFIX[suffix])
    return float(Decimal(text))
