"""The demo report's PNG timelines: load, replicas per target (asked, ready, decided), queue depth and
reads per read-pool member, and replica-hours accumulated against provisioning the peak.

Drawn with `scaleplane.reporting.plots`, shared with `scaleplane simulate`. Inputs are the demo's
one-second recording, Prometheus' range series (fetched by `demoreport`) and the decision log.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from scaleplane.local import platform as local_platform
from scaleplane.local.demo import recording
from scaleplane.reporting import plots

Series = dict[str, list[tuple[float, float]]]


def at(series: list[tuple[float, float]], times: list[float]) -> list[float]:
    """Sample a Prometheus series at `times` (epoch), carrying the last value forward; NaN before it."""
    out, i, last = [], 0, math.nan
    for t in times:
        while i < len(series) and series[i][0] <= t:
            last = series[i][1]
            i += 1
        out.append(last)
    return out


def _logged(decisions: list[dict[str, Any]], policy: str, epoch: list[float], first: float) -> list[float]:
    """The count the decision log asked for at each time (the step line of the decisions)."""
    scaled = sorted(
        (float(d["at"]), float(d["desired"]))
        for d in decisions
        if d.get("policy") == policy and d.get("scaled")
    )
    out, i, value = [], 0, first
    for t in epoch:
        while i < len(scaled) and scaled[i][0] <= t:
            value = scaled[i][1]
            i += 1
        out.append(value)
    return out


def _cumulative_hours(values: list[float], t: list[float]) -> list[float]:
    out, total = [0.0], 0.0
    for i in range(1, len(t)):
        previous = values[i - 1]
        total += (0.0 if math.isnan(previous) else previous) * (t[i] - t[i - 1]) / 3600
        out.append(total)
    return out


def draw(
    report_dir: Path,
    running: local_platform.Platform,
    recorded: recording.Recording,
    series: Series,
    decisions: list[dict[str, Any]],
) -> list[str]:
    rows = recorded.rows
    t = [r.t for r in rows]
    epoch = [recorded.started_at + x for x in t]
    nan = math.nan
    load = plots.timeline(
        report_dir / "load.png",
        t,
        [
            plots.Panel(
                "API reads: asked by the load generator, answered, failed",
                "requests/s",
                [
                    plots.Series("target", [r.target_rps for r in rows], step=True, style="--", color="gray"),
                    plots.Series("answered (client)", [float(r.ok) for r in rows], color="C0"),
                    plots.Series("failed", [float(r.failed) for r in rows], color="C3"),
                    plots.Series("served (app, Prometheus)", at(series.get("served", []), epoch), color="C2"),
                ],
            ),
            plots.Panel(
                "latency seen by the client (p95 per second)",
                "ms",
                [plots.Series("p95", [nan if r.p95_ms is None else r.p95_ms for r in rows], color="C1")],
            ),
        ],
        title="Load",
        width=10,
    )
    panels: list[plots.Panel] = []
    cost: list[plots.Series] = []
    for managed in running.managed:
        name = managed.key.name

        def pick(field: str, policy: str = name) -> list[float]:
            out = []
            for r in rows:
                sample = r.policies.get(policy)
                value = getattr(sample, field) if sample else None
                out.append(nan if value is None else float(value))
            return out

        first = rows[0].policies.get(name)
        logged = _logged(decisions, name, epoch, float(first.current or 0) if first else nan)
        panels.append(
            plots.Panel(
                f"{name}: {managed.spec.target_ref.kind}/{managed.spec.target_ref.name}",
                "replicas",
                [
                    plots.Series("asked (current)", pick("current"), step=True, color="C0"),
                    plots.Series("ready", pick("ready"), step=True, color="C2"),
                    plots.Series(
                        "decided (Prometheus)",
                        at(series.get(f"desired:{name}", []), epoch),
                        style=":",
                        color="C3",
                    ),
                    plots.Series("decided (decision log)", logged, step=True, style="--", color="C1"),
                ],
            )
        )
        asked = pick("current")
        peak = max((v for v in asked if not math.isnan(v)), default=0.0)
        color = f"C{len(cost) // 2}"  # a policy's two lines share a colour
        cost.append(plots.Series(f"{name}: asked", _cumulative_hours(asked, t), color=color))
        static = _cumulative_hours([peak] * len(t), t)
        cost.append(plots.Series(f"{name}: static at its peak", static, style=":", color=color))
    replicas = plots.timeline(report_dir / "replicas.png", t, panels, title="Replicas per target", width=10)
    hours = plots.timeline(
        report_dir / "replica-hours.png",
        t,
        [
            plots.Panel(
                "replica-hours so far: what scaling asked for vs provisioning the peak", "replica-hours", cost
            )
        ],
        title="Replica-hours",
        width=10,
    )
    queue_panels = [
        plots.Panel(
            "Celery queue depth (jobs waiting)",
            "jobs",
            [
                plots.Series(
                    "queue depth", [nan if r.queue_depth is None else r.queue_depth for r in rows], color="C4"
                )
            ],
        )
    ]
    reads = [(k.split(":", 1)[1], v) for k, v in sorted(series.items()) if k.startswith("reads:")]
    if reads:
        queue_panels.append(
            plots.Panel(
                "reads per second by read-pool member (app metric)",
                "reads/s",
                [plots.Series(member, at(points, epoch)) for member, points in reads],
            )
        )
    queue = plots.timeline(
        report_dir / "queue-and-reads.png", t, queue_panels, title="What the policies watch", width=10
    )
    return [
        "## Load",
        "",
        f"![load]({load.name})",
        "",
        "## Replicas per target",
        "",
        f"![replicas]({replicas.name})",
        "",
        "## Queue depth and reads",
        "",
        f"![queue and reads]({queue.name})",
        "",
        "## Replica-hours over the run",
        "",
        f"![replica-hours]({hours.name})",
        "",
    ]
