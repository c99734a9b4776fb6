"""The report of what autoscaling spent and saved (`cost report`): JSON, a sentence, Markdown and a chart.

    cost-report.md         per policy: replica-hours, spent, holding the peak, holding maxReplicas, the
                           HPA's defaults replayed, SLO-violation minutes of both replays
    autoscaling-spend.png  cumulative spend over the window against the static alternatives and the HPA

Values come computed from `attributing`; this module formats and draws them (scaleplane.reporting).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from pathlib import Path

from scaleplane.cost import attributing
from scaleplane.cost.reports import usd
from scaleplane.reporting import markdown, plots


def _money(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def summary(a: attributing.Attribution) -> str:
    """The sentence a team reads: what the policy cost, what the HPA would have, SLO minutes each."""
    spent = a.cost(a.replica_hours)
    head = f"{a.policy} ran {a.replica_hours:,.1f} replica-hours" + (
        f", {usd(spent)}" if spent is not None else ""
    )
    if a.policy_replay is None or a.hpa_replay is None:
        return f"{head} ({a.replay_note})"

    def amount(replay: attributing.Replay) -> str:
        cost = a.cost(replay.replica_hours)
        return f"{replay.replica_hours:,.1f} replica-h" if cost is None else usd(cost)

    return (
        f"{head}; replayed on the same load this policy costs {amount(a.policy_replay)} with "
        f"{a.policy_replay.slo_violation_minutes:g} SLO-violation minutes, the HPA's defaults "
        f"{amount(a.hpa_replay)} with {a.hpa_replay.slo_violation_minutes:g}"
    )


def attribution_json(a: attributing.Attribution) -> dict[str, object]:
    def replay(r: attributing.Replay | None) -> dict[str, object] | None:
        if r is None:
            return None
        return {
            "replicaHours": round(r.replica_hours, 4),
            "cost": _money(a.cost(r.replica_hours)),
            "sloViolationMinutes": r.slo_violation_minutes,
        }

    return {
        "namespace": a.namespace,
        "policy": a.policy,
        "coveredHours": round(a.covered_hours, 4),
        "replicaHours": round(a.replica_hours, 4),
        "unitHourlyUsd": a.unit_hourly_usd,
        "priceSource": a.price_source,
        "spent": _money(a.cost(a.replica_hours)),
        "holdPeak": {
            "replicas": a.peak_replicas,
            "replicaHours": round(a.peak_replica_hours, 4),
            "cost": _money(a.cost(a.peak_replica_hours)),
        },
        "holdMax": {
            "replicas": a.max_replicas,
            "replicaHours": _money(a.max_replica_hours),
            "cost": _money(a.cost(a.max_replica_hours)),
        },
        "policyReplay": replay(a.policy_replay),
        "hpaReplay": replay(a.hpa_replay),
        "note": a.replay_note,
        "summary": summary(a),
    }


def write_attribution(
    folder: Path,
    found: Sequence[attributing.Attribution],
    recorded: Sequence[attributing.Recorded],
    since: str,
) -> Path:
    """cost-report.md and autoscaling-spend.png: cumulative spend against the static alternatives."""
    folder.mkdir(parents=True, exist_ok=True)
    panels = []
    for a, series in zip(found, recorded, strict=True):
        if not series.at:
            continue
        price = a.unit_hourly_usd if a.unit_hourly_usd is not None else 1.0
        unit = "USD" if a.unit_hourly_usd is not None else "replica-hours"
        hour = a.step_seconds / 3600
        lines = [
            plots.Series(
                "this policy (recorded)",
                list(itertools.accumulate(r * hour * price for r in series.replicas)),
            )
        ]
        lines.append(
            plots.Series(
                "hold the peak",
                [a.peak_replicas * hour * price * (i + 1) for i in range(len(series.at))],
                style="--",
            )
        )
        if a.max_replicas is not None:
            lines.append(
                plots.Series(
                    "hold maxReplicas",
                    [a.max_replicas * hour * price * (i + 1) for i in range(len(series.at))],
                    style=":",
                )
            )
        if a.hpa_replay is not None and len(a.hpa_replay.replicas) == len(series.at):
            lines.append(
                plots.Series(
                    "HPA defaults (replayed)",
                    list(itertools.accumulate(r * hour * price for r in a.hpa_replay.replicas)),
                )
            )
        panels.append(plots.Panel(f"{a.namespace}/{a.policy}: cumulative spend", unit, lines))
    if panels:
        start = recorded[0].at[0] if recorded and recorded[0].at else 0.0
        at = [t - start for t in (recorded[0].at if recorded else ())]
        same = [p for p, s in zip(panels, recorded, strict=False) if len(s.at) == len(at)]
        plots.timeline(
            folder / "autoscaling-spend.png", at, same, title=f"autoscaling spend over the last {since}"
        )
    rows = [
        [
            f"{a.namespace}/{a.policy}",
            f"{a.replica_hours:,.1f}",
            _cell(a.cost(a.replica_hours)),
            _cell(a.cost(a.peak_replica_hours)),
            _cell(a.cost(a.max_replica_hours)),
            _cell(a.cost(a.hpa_replay.replica_hours) if a.hpa_replay else None),
            f"{a.policy_replay.slo_violation_minutes:g} / {a.hpa_replay.slo_violation_minutes:g}"
            if a.policy_replay and a.hpa_replay
            else "-",
        ]
        for a in found
    ]
    text = [
        f"# What autoscaling spent and saved, over the last {since}\n",
        "Measured from the operator's own series (`scaleplane_current_replicas`) in Prometheus; the HPA "
        "column replays the Kubernetes HPA's defaults on the same recorded metric with the simulator.\n",
        "![autoscaling spend](autoscaling-spend.png)\n" if panels else "",
        markdown.table(
            [
                "policy",
                "replica-hours",
                "spent",
                "hold peak",
                "hold maxReplicas",
                "HPA (replayed)",
                "SLO-violation min (policy / HPA, replayed)",
            ],
            rows,
        ),
        *[f"- {summary(a)}. Unit price: {a.price_source}." for a in found],
    ]
    page = folder / "cost-report.md"
    page.write_text("\n".join(text) + "\n")
    return page


def _cell(value: float | None) -> str:
    return "-" if value is None else usd(value)
