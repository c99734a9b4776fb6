"""What `scaleplane simulate` prints and writes besides JSON: the summary table, the timeline CSV and
the report folder (simulate.md and its chart, drawn by scaleplane.reporting.simulations).

The table is laid out by hand rather than with rich: rich crops the cells of a table wider than the
terminal, and a cropped number reads as a different number. Here columns take their natural width
and, on a terminal too narrow for them, the same values are listed one per line.
"""

from __future__ import annotations

import csv
import shlex
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scaleplane.cli.app import fail

if TYPE_CHECKING:
    from scaleplane.scaling.simulating import simulation


def summary_lines(result: dict[str, Any], outcomes: list[simulation.Outcome], width: int) -> list[str]:
    """The summary as a table when it fits `width` (80 columns does), else one line per value.

    A number is never cut or wrapped: the columns take their natural width, and a terminal too
    narrow for them gets the same values listed instead of a table with cropped cells.
    """
    from scaleplane.reporting import simulations

    headers = list(simulations.SHORT_HEADERS)
    rows = [[str(cell) for cell in row] for row in simulations.summary_rows(outcomes)]
    widths = [max(len(headers[i]), *(len(row[i]) for row in rows)) for i in range(len(headers))]
    title = f"{result['trace']}: {result['ticks']} ticks of {result['tick_seconds']:g} s"
    total = sum(widths) + 2 * (len(widths) - 1)
    if total > width:
        lines = [title]
        for row in rows:
            lines.append(f"{row[0]}:")
            lines += [f"  {header}: {cell}" for header, cell in zip(headers[1:], row[1:], strict=True)]
        return lines

    def line(cells: list[str]) -> str:
        first = cells[0].ljust(widths[0])
        return "  ".join([first, *(cell.rjust(w) for cell, w in zip(cells[1:], widths[1:], strict=True))])

    return [title.center(total).rstrip(), line(headers), "-" * total, *(line(row) for row in rows)]


TIMELINE_ROWS = 1_000_000  # ticks per run written one row each; longer timelines are written as runs


def write_timeline(path: Path, outcomes: list[simulation.Outcome]) -> None:
    """One row per run and tick: the series behind the plots (`scaleplane simulate --timeline`).

    Past `TIMELINE_ROWS` ticks, when the series are runs (simulating.runlengths), a row only where some
    value changes, and at the last tick: each row holds until the next row's `t` (docs/simulate.md).
    """
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(
            ["run", "t", "demand", "replicas", "ready", "backlog", "oracle_replicas", "oracle_ready"]
        )
        for outcome in outcomes:
            line = outcome.timeline
            for k in _rows(outcome):
                writer.writerow(
                    [
                        outcome.name,
                        f"{line.at[k]:g}",
                        f"{line.demand[k]:.6g}",
                        line.replicas[k],
                        line.ready[k],
                        f"{line.backlog[k]:.6g}",
                        outcome.oracle.billed[k] if k < len(outcome.oracle.billed) else "",
                        outcome.oracle.ready[k] if k < len(outcome.oracle.ready) else "",
                    ]
                )


def _rows(outcome: simulation.Outcome) -> Iterable[int]:
    from scaleplane.scaling.simulating import runlengths

    line, best = outcome.timeline, outcome.oracle
    columns = [line.demand, line.replicas, line.ready, line.backlog, best.billed, best.ready]
    ticks = len(line.at)
    views = [c for c in columns if isinstance(c, runlengths.Ticks)]
    if ticks <= TIMELINE_ROWS or len(views) < len(columns):
        return range(ticks)
    return sorted({b for view in views for b in view.runs.starts()} | {ticks - 1})


def write_report(
    directory: Path,
    outcomes: list[simulation.Outcome],
    trace: Any,
    model: simulation.TargetModel,
    tick: float,
) -> None:
    """--report: simulate.md and simulate.png in `directory`, with the command line that made them."""
    from scaleplane.reporting import simulations

    try:
        simulations.write(
            directory,
            outcomes,
            trace_name=trace.name,
            unit=trace.unit,
            model=model,
            tick_seconds=tick,
            command="scaleplane " + shlex.join(sys.argv[1:]),
        )
    except OSError as exc:
        raise fail(f"--report: cannot write into {directory}: {exc}") from None


def print_table(result: dict[str, Any], outcomes: list[simulation.Outcome], report: Path | None) -> None:
    """The summary on the terminal (summary_lines at its width), then where the report went."""
    from rich.console import Console

    from scaleplane.reporting import simulations

    console = Console()
    for line in summary_lines(result, outcomes, console.width):
        console.print(line, highlight=False, soft_wrap=True)
    if report is not None:
        console.print(f"report: {report / simulations.MARKDOWN_NAME}")
