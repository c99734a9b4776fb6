"""Timeline plots of named series: one PNG, one or more stacked panels sharing the time axis.

    plots.timeline(path, at_seconds, [
        plots.Panel("load", "requests/s", [plots.Series("demand", demand), plots.Series("capacity", cap)]),
        plots.Panel("replicas", "replicas", [plots.Series("policy", replicas, step=True)]),
    ], title="...")

Series are drawn in the order given; `step=True` draws a replica count as the staircase it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float]
    step: bool = False  # a piecewise-constant count (replicas), drawn as steps
    style: str = "-"  # a matplotlib line style: "-", "--", ":"
    color: str | None = None  # a matplotlib color ("C1", "black"); None takes the next in the cycle


@dataclass(frozen=True)
class Panel:
    title: str
    unit: str
    series: Sequence[Series]


def time_unit(span_seconds: float) -> tuple[str, float]:
    """The axis unit that keeps tick labels readable: minutes up to 3 hours, hours beyond."""
    return ("hours", 3600.0) if span_seconds > 3 * 3600 else ("minutes", 60.0)


def timeline(
    path: Path, at_seconds: Sequence[float], panels: Sequence[Panel], *, title: str, width: float = 11.0
) -> Path:
    """Draw `panels` over `at_seconds` into the PNG at `path` (its folder must exist); return the path."""
    if not panels:
        raise ValueError("a timeline needs at least one panel")
    for panel in panels:
        for series in panel.series:
            if len(series.values) != len(at_seconds):
                raise ValueError(
                    f"series {series.name!r} has {len(series.values)} values for {len(at_seconds)} times"
                )
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    label, scale = time_unit((at_seconds[-1] - at_seconds[0]) if len(at_seconds) > 1 else 0.0)
    x = [t / scale for t in at_seconds]
    figure, axes = pyplot.subplots(
        len(panels), 1, sharex=True, figsize=(width, 2.8 * len(panels)), squeeze=False
    )
    try:
        for axis, panel in zip(axes[:, 0], panels, strict=True):
            for series in panel.series:
                if series.step:
                    axis.step(
                        x,
                        series.values,
                        where="post",
                        linestyle=series.style,
                        color=series.color,
                        label=series.name,
                    )
                else:
                    axis.plot(
                        x,
                        series.values,
                        linestyle=series.style,
                        linewidth=1.0,
                        color=series.color,
                        label=series.name,
                    )
            axis.set_title(panel.title, fontsize=10, loc="left")
            axis.set_ylabel(panel.unit)
            axis.grid(alpha=0.3)
            axis.legend(fontsize=8, loc="upper right")
        axes[-1, 0].set_xlabel(label)
        figure.suptitle(title, fontsize=11)
        figure.tight_layout()
        figure.savefig(path, dpi=100)
    finally:
        pyplot.close(figure)
    return path
