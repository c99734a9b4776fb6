"""The price catalog: AWS on-demand list prices, each with its region, unit, source and date.

The bundled catalog is `prices.json` next to this module (transcribed by hand, see its `note` and
docs/cost.md); `scaleplane cost prices refresh` writes a file of the same shape from the Price List API,
which `--prices FILE` lays over the bundled one (a refreshed price wins, an unrefreshed one stays).

A product key names what is billed, not the SKU: `instance:m6i.large` (EC2, per hour),
`postgres:db.r6g.large:multi-az` (RDS, per hour), `storage:gp3:single-az` (RDS, per GB-month). The
service is the Price List API's service code (`AmazonEC2`, `AmazonRDS`, ...).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

HOURS_PER_MONTH = 730  # AWS's and Infracost's month: 24 * 365 / 12
FIELDS = ("region", "service", "product", "unit", "usd", "source", "date")


class CatalogError(ValueError):
    """A bad catalog file: the message names the file, the entry and the field."""


@dataclass(frozen=True)
class Price:
    region: str
    service: str
    product: str
    unit: str  # Hrs, GB-Mo, GB, Mo, LCU-Hrs
    usd: float
    source: str  # the pricing page or the Price List API offer it came from
    date: str  # ISO date it was transcribed or fetched

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in FIELDS}


@dataclass(frozen=True)
class Catalog:
    prices: Mapping[tuple[str, str, str], Price]  # (region, service, product) -> price
    note: str = ""

    def get(self, region: str, service: str, product: str) -> Price | None:
        return self.prices.get((region, service, product))

    @property
    def regions(self) -> list[str]:
        return sorted({region for region, _, _ in self.prices})

    def overlaid(self, other: Catalog) -> Catalog:
        """This catalog with `other`'s prices replacing or adding to its own."""
        return Catalog({**self.prices, **other.prices}, note=self.note)

    def to_json(self) -> str:
        entries = sorted(self.prices.values(), key=lambda p: (p.region, p.service, p.product))
        body = ",\n".join("  " + json.dumps(p.as_dict()) for p in entries)
        return f'{{\n "currency": "USD",\n "note": {json.dumps(self.note)},\n "prices": [\n{body}\n ]\n}}\n'


def parse(text: str, source: str) -> Catalog:
    """A catalog from the JSON text of `source` (a file name, for messages)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CatalogError(f"{source}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(data, dict) or not isinstance(data.get("prices"), list):
        raise CatalogError(f"{source}: expected an object with a 'prices' list")
    if data.get("currency", "USD") != "USD":
        raise CatalogError(f"{source}: currency: only USD is supported, was {data.get('currency')!r}")
    return Catalog(
        {(p.region, p.service, p.product): p for p in _entries(data["prices"], source)},
        note=str(data.get("note", "")),
    )


def _entries(items: Iterable[Any], source: str) -> Iterable[Price]:
    for index, item in enumerate(items):
        where = f"{source}: prices[{index}]"
        if not isinstance(item, dict):
            raise CatalogError(f"{where}: expected an object, was {item!r}")
        missing = [name for name in FIELDS if name not in item]
        if missing:
            raise CatalogError(f"{where}: missing field(s) {', '.join(missing)}")
        usd = item["usd"]
        if isinstance(usd, bool) or not isinstance(usd, int | float) or usd < 0:
            raise CatalogError(f"{where}.usd: must be a number >= 0, was {usd!r}")
        text = {name: item[name] for name in FIELDS if name != "usd"}
        bad = [name for name, value in text.items() if not isinstance(value, str) or not value]
        if bad:
            raise CatalogError(f"{where}.{bad[0]}: must be a non-empty string, was {item[bad[0]]!r}")
        yield Price(usd=float(usd), **text)


def bundled() -> Catalog:
    """The catalog shipped with scaleplane."""
    text = resources.files("scaleplane.cost").joinpath("prices.json").read_text()
    return parse(text, "scaleplane/cost/prices.json")
