"""The alerts of a run, from the platform's webhook log (alerts.jsonl): when each fired and resolved.

Alertmanager notifies per group: the same alert shows up in several notifications (repeats, a group's
other alerts changing). An episode is one alert (its fingerprint and `startsAt`: Prometheus sets it
when the alert fires, its condition having held for its `for:`), the first notification the webhook got
of it, and the `endsAt` of the first "resolved" one; an alert still firing when the run ended has no end.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scaleplane.reporting import markdown

# Labels every alert has, or that say nothing a reader needs in the table.
QUIET_LABELS = {"alertname", "severity", "job", "instance"}


@dataclass(frozen=True)
class Episode:
    alertname: str
    severity: str
    labels: str
    summary: str
    fired_at: float
    notified_at: float
    resolved_at: float | None


def _when(stamp: str | None) -> float | None:
    """Alertmanager's RFC 3339 times (nanoseconds, `Z`) as epoch seconds; None for the zero time."""
    if not stamp or stamp.startswith("0001-"):
        return None
    trimmed = re.sub(r"(\.\d{6})\d+", r"\1", stamp).replace("Z", "+00:00")
    return dt.datetime.fromisoformat(trimmed).timestamp()


def read(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def episodes(records: list[dict[str, Any]], start: float, end: float) -> list[Episode]:
    """Alerts that fired between `start` and `end` (epoch seconds), in the order they fired."""
    found: dict[str, dict[str, Any]] = {}
    for record in sorted(records, key=lambda r: float(r.get("receivedAt", 0))):
        fired = _when(record.get("startsAt"))
        if fired is None or not start - 1 <= fired <= end:
            continue
        key = f"{record.get('fingerprint')}@{record.get('startsAt')}"
        received = float(record.get("receivedAt", fired))
        entry = found.setdefault(
            key, {"record": record, "fired": fired, "notified": received, "resolved": None}
        )
        if record.get("status") == "resolved" and entry["resolved"] is None:
            entry["resolved"] = _when(record.get("endsAt"))
    shown = []
    for entry in sorted(found.values(), key=lambda e: e["fired"]):
        record = entry["record"]
        labels = record.get("labels", {})
        detail = ", ".join(f"{k}={v}" for k, v in sorted(labels.items()) if k not in QUIET_LABELS)
        shown.append(
            Episode(
                alertname=str(record.get("alertname")),
                severity=str(labels.get("severity", "")),
                labels=detail,
                summary=str(record.get("summary", "")),
                fired_at=entry["fired"],
                notified_at=entry["notified"],
                resolved_at=entry["resolved"],
            )
        )
    return shown


def section(path: Path, start: float, end: float, hold_scale: float) -> list[str]:
    """The report's "Alerts" section (Markdown lines)."""
    lines = [
        "## Alerts",
        "",
        "What the project's alert rules (dashboards/rules/) fired in the platform's Prometheus and its "
        "Alertmanager delivered to the platform's webhook, with every `for:` hold multiplied by "
        f"{hold_scale:.3g} so that a fifteen-minute hold lasts {15 * 60 * hold_scale:g} s in this demo. "
        "Times from the start of the load: when each alert fired (its condition having held for its "
        "`for:`), when the webhook was told, and when it was told the alert resolved.",
        "",
    ]
    found = episodes(read(path), start, end)
    if not found:
        return [*lines, "No alert fired in this run.", ""]
    rows = [
        [
            f"+{e.fired_at - start:.0f}s",
            f"+{e.notified_at - start:.0f}s",
            f"+{e.resolved_at - start:.0f}s" if e.resolved_at is not None else "still firing",
            f"`{e.alertname}`",
            e.severity,
            e.labels or "-",
            e.summary,
        ]
        for e in found
    ]
    return [
        *lines,
        markdown.table(["fired", "notified", "resolved", "alert", "severity", "labels", "summary"], rows),
    ]
