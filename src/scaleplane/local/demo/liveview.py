"""The demo's live terminal view (rich): load, metrics, targets and decisions as they happen.

`render(snapshot)` is a pure function of a `Snapshot`, so the layout is tested without a terminal; the
demo builds a snapshot from the load generator and the controller's last outcomes a few times a second
and hands it to `rich.live.Live`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from rich import box
from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

SPARK = " ▁▂▃▄▅▆▇█"


@dataclass(frozen=True)
class MetricCell:
    name: str
    value: float | None
    target: float
    target_type: str  # "Value" or "AverageValue" (per ready replica)
    error: str | None = None


@dataclass(frozen=True)
class PolicyRow:
    policy: str
    target: str  # e.g. "WorkerPool/workers"
    current: int
    ready: int
    desired: int | None
    bounds: tuple[int, int]
    metrics: tuple[MetricCell, ...] = ()
    history: tuple[int, ...] = ()  # ready replicas, one per tick, for the sparkline
    error: str | None = None


@dataclass(frozen=True)
class DecisionRow:
    at: str  # "+42s"
    policy: str
    change: str  # "2 -> 4"
    reason: str
    message: str


@dataclass(frozen=True)
class LoadRow:
    phase: str
    target_rps: float
    ok_per_s: int
    failed_per_s: int
    shed_per_s: int
    p95_ms: float | None
    in_flight: int
    jobs_enqueued: int
    queue_depth: float | None
    failed_total: int
    calls_ok_per_s: int = 0  # function calls through the gateway (the demo's function)
    calls_failed_total: int = 0
    cold_starts_total: int = 0


@dataclass(frozen=True)
class Snapshot:
    title: str
    elapsed: float
    duration: float
    load: LoadRow | None
    policies: Sequence[PolicyRow] = ()
    decisions: Sequence[DecisionRow] = ()
    notes: Sequence[str] = field(default_factory=tuple)


def sparkline(values: Sequence[int], width: int = 30) -> str:
    values = list(values)[-width:]
    if not values:
        return ""
    top = max(max(values), 1)
    return "".join(SPARK[round(v / top * (len(SPARK) - 1))] for v in values)


def _number(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"


def _progress(elapsed: float, duration: float, width: int = 30) -> str:
    done = 0 if duration <= 0 else min(1.0, max(0.0, elapsed / duration))
    filled = round(done * width)
    return "█" * filled + "░" * (width - filled)


def _load_table(load: LoadRow) -> Table:
    table = Table(box=box.SIMPLE_HEAD, expand=True, pad_edge=False)
    for column in ("phase", "target r/s", "ok r/s", "failed r/s", "shed r/s", "p95 ms", "in flight"):
        table.add_column(column, justify="left" if column == "phase" else "right")
    table.add_column("jobs sent", justify="right")
    table.add_column("queue", justify="right")
    table.add_column("calls/s", justify="right")
    table.add_column("cold", justify="right")
    failed = Text(str(load.failed_per_s), style="red" if load.failed_per_s else "")
    table.add_row(
        load.phase,
        f"{load.target_rps:g}",
        str(load.ok_per_s),
        failed,
        str(load.shed_per_s),
        _number(load.p95_ms),
        str(load.in_flight),
        f"{load.jobs_enqueued:,}",
        _number(load.queue_depth, 0),
        Text(
            f"{load.calls_ok_per_s}"
            + (f" ({load.calls_failed_total} failed)" if load.calls_failed_total else ""),
            style="red" if load.calls_failed_total else "",
        ),
        str(load.cold_starts_total),
    )
    return table


def _policies_table(rows: Sequence[PolicyRow]) -> Table:
    table = Table(box=box.SIMPLE_HEAD, expand=True, pad_edge=False)
    table.add_column("policy")
    table.add_column("target")
    table.add_column("ready/current", justify="right")
    table.add_column("desired", justify="right")
    table.add_column("min..max", justify="right")
    table.add_column("metrics (value / target)")
    table.add_column("ready, last 30 s", no_wrap=True, max_width=32)
    for row in rows:
        metrics = Text()
        for i, cell in enumerate(row.metrics):
            if i:
                metrics.append("\n")
            per = " per replica" if cell.target_type == "AverageValue" else ""
            if cell.error:
                metrics.append(f"{cell.name}: ", style="bold")
                metrics.append(cell.error[:60], style="red")
            else:
                metrics.append(f"{cell.name}: ", style="bold")
                metrics.append(f"{_number(cell.value)} / {cell.target:g}{per}")
        if row.error:
            metrics.append(("\n" if row.metrics else "") + row.error[:80], style="red")
        moving = row.desired is not None and row.desired != row.current
        table.add_row(
            row.policy,
            row.target,
            f"{row.ready}/{row.current}",
            Text("—" if row.desired is None else str(row.desired), style="bold yellow" if moving else ""),
            f"{row.bounds[0]}..{row.bounds[1]}",
            metrics,
            Text(sparkline(row.history), style="cyan"),
        )
    return table


def _decisions_table(rows: Sequence[DecisionRow]) -> Table:
    table = Table(box=box.SIMPLE_HEAD, expand=True, pad_edge=False)
    table.add_column("when", justify="right", no_wrap=True)
    table.add_column("policy", no_wrap=True)
    table.add_column("change", no_wrap=True)
    table.add_column("reason", no_wrap=True)
    table.add_column("why", ratio=1)
    for row in rows:
        up = "->" in row.change and _rises(row.change)
        style = "green" if up else "magenta"
        table.add_row(row.at, row.policy, Text(row.change, style=style), row.reason, row.message)
    return table


def _rises(change: str) -> bool:
    before, _, after = change.partition("->")
    try:
        return int(after) > int(before)
    except ValueError:
        return False


def render(snapshot: Snapshot) -> RenderableType:
    head = Text.assemble(
        (snapshot.title, "bold"),
        f"   {snapshot.elapsed:5.0f}s / {snapshot.duration:.0f}s  ",
        (_progress(snapshot.elapsed, snapshot.duration), "cyan"),
    )
    parts: list[RenderableType] = [head]
    if snapshot.load is not None:
        parts.append(Panel(_load_table(snapshot.load), title="load (this second)", border_style="blue"))
    parts.append(Panel(_policies_table(snapshot.policies), title="targets and metrics", border_style="green"))
    decisions = list(snapshot.decisions)[-8:] or [DecisionRow("", "", "", "", "no scaling decision yet")]
    parts.append(Panel(_decisions_table(decisions), title="scaling decisions", border_style="magenta"))
    for note in snapshot.notes:
        parts.append(Text(note, style="dim"))
    return Group(*parts)
