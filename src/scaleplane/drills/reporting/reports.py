"""What a drill leaves behind: the JSON object (the public `--json` contract), a Markdown report, and
one line per run in a history file (JSON Lines) so a team sees RTO over time.

The JSON object has at least: scenario, target, executed, rto_seconds, rpo_commits_lost, rpo_seconds,
objectives, verdict (PolicyMet / PolicyBreached; null for a plan).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from scaleplane.drills.engine import running


def _iso(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).isoformat(timespec="milliseconds")


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def alerts(result: running.DrillResult) -> list[dict[str, Any]]:
    """Each alert the drill saw, from its marks ("pending: NAME", "alert: NAME" = notified), in seconds
    since the fault; a fired of None means it went pending and never fired."""
    names = sorted(
        {name.split(": ", 1)[1] for name in result.marks if name.startswith(("pending: ", "alert: "))}
    )
    since = result.fault_at if result.fault_at is not None else result.started

    def at(mark: str) -> float | None:
        return _round(result.marks[mark] - since) if mark in result.marks else None

    return [
        {"alert": n, "pending_seconds": at(f"pending: {n}"), "fired_seconds": at(f"alert: {n}")}
        for n in names
    ]


def detection_seconds(result: running.DrillResult) -> float | None:
    """Fault to the first alert notification (None when no alert fired: never a guess)."""
    fired = [a["fired_seconds"] for a in alerts(result) if a["fired_seconds"] is not None]
    return min(fired) if fired and result.fault_at is not None else None


def as_json(result: running.DrillResult) -> dict[str, Any]:
    m = result.measurement
    objectives = result.scenario.objectives
    return {
        "scenario": result.scenario.name,
        "target": result.target,
        "executed": result.executed,
        "started": _iso(result.started),
        "seconds": _round(result.finished - result.started),
        "rto_seconds": _round(m.rto_seconds) if m else None,
        "rto_read_seconds": _round(m.rto_read_seconds) if m else None,
        "rpo_commits_lost": m.rpo_commits_lost if m else None,
        "rpo_seconds": _round(m.rpo_seconds) if m else None,
        "detection_seconds": detection_seconds(result),
        "alerts": alerts(result),
        "objectives": {
            "rto_seconds": objectives.rto_seconds,
            "rpo_seconds": objectives.rpo_seconds,
            "rpo_commits": objectives.rpo_commits,
        },
        "verdict": result.verdict,
        "breaches": list(result.breaches),
        "data_check": None
        if m is None
        else {
            "writes_acknowledged": m.writes_acknowledged,
            "writes_failed": m.writes_failed,
            "reads_ok": m.reads_ok,
            "reads_failed": m.reads_failed,
            "acknowledged_commits_lost": list(m.lost),
        },
        "timeline": {
            name: _round(at - result.started) for name, at in sorted(result.marks.items(), key=lambda i: i[1])
        },
        "steps": [
            {
                "id": r.step.id,
                "phase": str(r.step.phase),
                "does": r.step.does,
                "expect": r.step.expect,
                "timeout_seconds": r.step.timeout_seconds,
                "commands": list(r.commands),
                "ok": None if r.skipped and not result.executed else r.ok,
                "skipped": r.skipped,
                "seconds": _round(r.seconds),
                "observed": r.observed,
            }
            for r in result.results
        ],
    }


def _fmt(value: float | None, unit: str = " s", none: str = "not measured") -> str:
    return none if value is None else f"{value:.2f}{unit}"


def _met(value: float | None, objective: float) -> str:
    return "met" if value is not None and value <= objective else "breached"


def markdown(result: running.DrillResult, timeline_png: str | None = None) -> str:
    data = as_json(result)
    m, o = result.measurement, result.scenario.objectives
    lines = [f"# Drill {result.scenario.name} on {result.target}: {result.verdict or 'plan'}", ""]
    lines += [result.scenario.summary, "", f"Started {data['started']}, took {data['seconds']} s.", ""]
    if m is not None:
        lost = m.rpo_commits_lost
        lines += [
            "| measure | measured | objective | |",
            "|---|---|---|---|",
            f"| RTO (fault to first acknowledged write) | {_fmt(m.rto_seconds)} | {o.rto_seconds:g} s | "
            f"{_met(m.rto_seconds, o.rto_seconds)} |",
            f"| RTO for reads | {_fmt(m.rto_read_seconds)} | | |",
            f"| Detection (fault to the first alert notified) | "
            f"{_fmt(data['detection_seconds'], none='no alert fired')} | | |",
            f"| RPO: acknowledged commits lost | {'not checked' if lost is None else lost} | "
            f"{o.rpo_commits} | {_met(lost, o.rpo_commits)} |",
            f"| RPO: seconds of history lost | {_fmt(m.rpo_seconds)} | {o.rpo_seconds:g} s | "
            f"{_met(m.rpo_seconds, o.rpo_seconds)} |",
            "",
            f"Data check: {m.writes_acknowledged} writes acknowledged, {m.writes_failed} failed (never "
            f"acknowledged, not counted); {m.reads_ok} reads served, {m.reads_failed} failed.",
            "",
        ]
    if data["alerts"]:
        lines += ["| alert | pending after the fault | fired after the fault |", "|---|---|---|"]
        lines += [
            f"| {a['alert']} | {_fmt(a['pending_seconds'])} | "
            f"{_fmt(a['fired_seconds'], none='did not fire')} |"
            for a in data["alerts"]
        ]
        lines.append("")
    if result.breaches:
        lines += ["Breaches:", "", *[f"- {b}" for b in result.breaches], ""]
    if timeline_png:
        lines += [f"![timeline]({timeline_png})", ""]
    lines += ["| step | phase | expected | result | seconds | observed |", "|---|---|---|---|---|---|"]
    for step in data["steps"]:
        state = "skipped" if step["skipped"] else ("ok" if step["ok"] else "FAILED")
        cells = [step["id"], step["phase"], step["expect"], state, step["seconds"], step["observed"]]
        lines.append("| " + " | ".join(str(cell) for cell in cells) + " |")
    return "\n".join(lines) + "\n"


def append_history(history: Path, result: running.DrillResult) -> None:
    data = as_json(result)
    line = {
        k: data[k]
        for k in (
            "scenario",
            "target",
            "started",
            "rto_seconds",
            "rto_read_seconds",
            "rpo_commits_lost",
            "rpo_seconds",
            "verdict",
        )
    }
    history.parent.mkdir(parents=True, exist_ok=True)
    with history.open("a") as out:
        out.write(json.dumps(line) + "\n")


def read_history(history: Path) -> list[dict[str, Any]]:
    if not history.exists():
        return []
    return [json.loads(line) for line in history.read_text().splitlines() if line.strip()]


def stamp(result: running.DrillResult) -> str:
    """A file-name-safe UTC time of the run's start: 20261201T221500Z."""
    return dt.datetime.fromtimestamp(result.started, dt.UTC).strftime("%Y%m%dT%H%M%SZ")
