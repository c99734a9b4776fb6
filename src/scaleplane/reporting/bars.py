"""Horizontal bar charts of named amounts: one PNG, one bar per label, one colour per series.

    bars.chart(path, ["db-primary", "cache"], [bars.Bars("estimated", [374.5, 451.1]),
                                               bars.Bars("actual", [380.2, 449.0])], title="...", unit="USD")

With one series the bars are plain; with several they stand side by side per label (estimate against
actual). Labels are drawn top-down in the order given.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Bars:
    name: str
    values: Sequence[float]


def chart(path: Path, labels: Sequence[str], series: Sequence[Bars], *, title: str, unit: str) -> Path:
    """Draw the bars into the PNG at `path` (its folder must exist); return the path."""
    if not labels or not series:
        raise ValueError("a bar chart needs at least one label and one series")
    for bar in series:
        if len(bar.values) != len(labels):
            raise ValueError(f"series {bar.name!r} has {len(bar.values)} values for {len(labels)} labels")
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    height = 0.8 / len(series)
    figure, axis = pyplot.subplots(figsize=(10.0, 1.2 + 0.38 * len(labels) * max(1, len(series) * 0.7)))
    try:
        positions = list(range(len(labels)))
        for index, bar in enumerate(series):
            offsets = [p - 0.4 + height * (index + 0.5) for p in positions]
            axis.barh(offsets, bar.values, height=height, label=bar.name)
        axis.set_yticks(positions, labels=list(labels), fontsize=8)
        axis.invert_yaxis()
        axis.set_xlabel(unit)
        axis.grid(axis="x", alpha=0.3)
        if len(series) > 1:
            axis.legend(fontsize=8, loc="lower right")
        axis.set_title(title, fontsize=11, loc="left")
        figure.tight_layout()
        figure.savefig(path, dpi=100)
    finally:
        pyplot.close(figure)
    return path
