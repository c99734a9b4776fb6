"""The demo report's comparison with the Kubernetes HPA: each policy and the HPA's defaults replayed on
the load the demo recorded, with `cost.attributing` (the same code as `scaleplane cost report`).

The recording samples every policy about once a second: its replica count and the value of each of its
metrics at the last tick. The metric is replayed as the demand (a metric that reads a backlog cannot be,
and the report says so); before the first tick there is no value, and the load had not started, so
those seconds count as 0; a missed sample keeps the value before it. Local replicas start in seconds
(a worker process, a pg_basebackup'd replica), so the replay's start-up delay is STARTUP_SECONDS.
Local processes have no price: the comparison is in replica-hours and SLO-violation minutes.
"""

from __future__ import annotations

from scaleplane.cost import attributing
from scaleplane.local import platform as local_platform
from scaleplane.local.demo import recording
from scaleplane.reporting import markdown

STARTUP_SECONDS = 5.0


def _filled(values: list[float | None]) -> tuple[float, ...]:
    filled, last = [], 0.0
    for value in values:
        last = last if value is None else value
        filled.append(last)
    return tuple(filled)


def against_hpa(recorded: recording.Recording, running: local_platform.Platform) -> list[str]:
    rows = recorded.rows
    if len(rows) < 2:
        return []
    step = (rows[-1].t - rows[0].t) / (len(rows) - 1)
    table, notes = [], []
    for managed in running.managed:
        name = managed.key.name
        samples = [row.policies.get(name) for row in rows]
        replicas = tuple(float(s.current or 0) if s else 0.0 for s in samples)
        metrics = {
            m.name: _filled([s.metrics.get(m.name) if s else None for s in samples])
            for m in managed.spec.metrics
        }
        series = attributing.Recorded(
            managed.key.namespace, name, tuple(row.t for row in rows), replicas, metrics
        )
        found = attributing.attribute(
            series, step, managed.spec, None, "local processes", startup_seconds=STARTUP_SECONDS
        )
        ours, hpa = found.policy_replay, found.hpa_replay
        table.append(
            [
                name,
                f"{found.replica_hours:.4f}",
                f"{ours.replica_hours:.4f} / {ours.slo_violation_minutes:.2f}" if ours else "-",
                f"{hpa.replica_hours:.4f} / {hpa.slo_violation_minutes:.2f}" if hpa else "-",
            ]
        )
        notes.append(f"- {name}: {found.replay_note}.")
    return [
        "## Against the HPA's defaults",
        "",
        "Each policy and the Kubernetes HPA's defaults replayed by the simulator on the load this run "
        "recorded (as `scaleplane cost report` does from Prometheus): replica-hours / SLO-violation minutes.",
        "",
        markdown.table(["policy", "ran (replica-h)", "policy, replayed", "HPA defaults, replayed"], table),
        *notes,
        "",
    ]
