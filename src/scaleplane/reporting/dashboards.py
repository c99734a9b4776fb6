"""A Grafana dashboard drawn without Grafana: its time-series panels as one PNG, from fetched data.

No Grafana runs on this machine (or in CI), so the documentation's pictures of the dashboards are
drawn by the project's own plotting (`plots.timeline`) from the dashboards' own JSON models: every
time-series panel becomes a stacked panel with its queries' series, named by their legend format.
What to draw comes in as data (`Fetched`: each query's series over a common time grid); fetching it
from Prometheus is the caller's job.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from scaleplane.reporting import plots

# One query's answer: (labels, values on the common grid; NaN where the series has no sample).
Fetched = list[tuple[dict[str, str], list[float]]]
UNITS = {
    "short": "",
    "percentunit": "ratio",
    "s": "seconds",
    "ops": "per second",
    "reqps": "per second",
    "rowsps": "rows/s",
    "bytes": "bytes",
}


def legend(template: str, labels: dict[str, str], fallback: str) -> str:
    """Grafana's legend format: `{{policy}} desired` with the series' labels filled in."""
    if not template:
        return fallback
    filled = re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: labels.get(m.group(1), ""), template).strip()
    return filled or fallback


def timeseries_panels(model: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for p in model.get("panels", []) if p.get("type") == "timeseries"]


def draw(
    model: dict[str, Any],
    at_seconds: Sequence[float],
    fetch: Callable[[str], Fetched],
    path: Path,
    *,
    substitute: Callable[[str], str] = lambda expr: expr,
) -> Path:
    """Draw every time-series panel of `model` with `fetch(expr)`'s data into `path`."""
    panels = []
    for panel in timeseries_panels(model):
        series = []
        for target in panel.get("targets", []):
            for labels, values in fetch(substitute(target["expr"])):
                if all(math.isnan(v) for v in values):
                    continue
                name = legend(target.get("legendFormat", ""), labels, target["refId"])
                series.append(plots.Series(name, values))
        if series:
            unit = panel.get("fieldConfig", {}).get("defaults", {}).get("unit", "")
            panels.append(plots.Panel(str(panel["title"]), UNITS.get(unit, unit), series))
    if not panels:
        raise ValueError(f"no panel of {model.get('uid')!r} has data to draw")
    return plots.timeline(path, at_seconds, panels, title=str(model.get("title")), width=11.0)
