"""What the local platform remembers across restarts: the decision log and each policy's engine state.

decisions.jsonl  one JSON object per decision that changed something or failed, appended and flushed
                 at once (a crash loses at most the line being written). `read_decisions` skips a
                 torn last line.
state.json       per policy: the `ScalingState` (stabilization windows, rate-limit events, forecast
                 history) and the replica count last asked of the target. Rewritten atomically after
                 every tick. On the next `up` the pools start at that count and the engine continues
                 its windows, so a restart neither drops capacity nor scales up again (no flapping).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scaleplane.scaling import decisions


@dataclass(frozen=True)
class Remembered:
    state: decisions.ScalingState
    replicas: int | None
    saved_at: float | None


def decision_record(
    policy: str, decision: decisions.Decision | None, *, scaled: bool, error: str | None, ready: int | None
) -> dict[str, Any]:
    record: dict[str, Any] = {"policy": policy, "scaled": scaled, "error": error, "ready": ready}
    if decision is not None:
        record.update(
            at=decision.at,
            current=decision.current,
            desired=decision.desired,
            raw=decision.raw,
            reason=decision.reason,
            message=decision.message,
            drivingMetric=decision.driving_metric,
            rules=list(decision.rules),
            actuate=decision.actuate,
            metrics={r.metric: r.value for r in decision.recommendations},
        )
    return record


def append_decision(path: Path, record: dict[str, Any]) -> None:
    with path.open("a") as out:
        out.write(json.dumps(record, sort_keys=True) + "\n")
        out.flush()


def read_decisions(path: Path) -> list[dict[str, Any]]:
    try:
        lines = path.read_text().splitlines()
    except FileNotFoundError:
        return []
    records = []
    for line in lines:
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            continue  # a line torn by a crash mid-write
    return records


def save_state(path: Path, policies: dict[str, Remembered]) -> None:
    payload = {
        name: {"state": r.state.to_dict(), "replicas": r.replicas, "savedAt": r.saved_at}
        for name, r in policies.items()
    }
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(payload, indent=1, sort_keys=True))
    os.replace(tmp, path)


def load_state(path: Path) -> dict[str, Remembered]:
    """The remembered policies; empty when there is no file or it cannot be read (then start afresh)."""
    try:
        payload = json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {}
    found = {}
    for name, entry in payload.items():
        try:
            found[name] = Remembered(
                decisions.ScalingState.from_dict(entry.get("state")),
                None if entry.get("replicas") is None else int(entry["replicas"]),
                entry.get("savedAt"),
            )
        except (TypeError, ValueError, AttributeError):
            continue
    return found
