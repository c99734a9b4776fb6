"""`scaleplane local status`: what the state directory says runs now, as a dict and as text."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from scaleplane.local import runfiles, statefiles
from scaleplane.local.pools import members


def collect(state_dir: Path, last: int = 8) -> dict[str, Any]:
    holder = runfiles.supervisor(state_dir)
    live = runfiles.live_records(state_dir)
    info = runfiles.read_platform(state_dir)
    if holder is not None:
        state = "running"
    elif live:
        state = "leftovers"
    elif info is not None:
        state = "stopped"
    else:
        state = "never started"
    return {
        "state": state,
        "stateDir": str(state_dir),
        "controllerPid": holder.pid if holder else None,
        "platform": info,
        "pools": members.read_pool_states(runfiles.servers_dir(state_dir)) if holder else [],
        "processes": [{"name": r.name, "pid": r.pid} for r in live],
        "decisions": statefiles.read_decisions(state_dir / "decisions.jsonl")[-last:],
    }


def _when(at: object) -> str:
    if not isinstance(at, int | float):
        return "?"
    return dt.datetime.fromtimestamp(at, dt.UTC).strftime("%H:%M:%S")


def render(report: dict[str, Any]) -> str:
    lines = [f"local platform in {report['stateDir']}: {report['state']}"]
    if report["state"] == "never started":
        lines.append("  start it with `scaleplane local up` (or run `scaleplane demo`)")
    if report["state"] == "leftovers":
        names = ", ".join(f"{p['name']} ({p['pid']})" for p in report["processes"])
        lines.append(f"  the controller is gone but these still run: {names}")
        lines.append("  end them with `scaleplane local down`")
    info = report.get("platform") or {}
    if report["state"] == "running":
        lines.append(f"  controller pid {report['controllerPid']}, tick {info.get('tickSeconds')} s")
        for key in ("app", "prometheus", "controllerMetrics", "postgres", "redis"):
            lines.append(f"  {key:<18} {info.get(key)}")
        lines.append(f"  processes          {len(report['processes'])} alive")
    for pool in report["pools"]:
        members = ", ".join(
            m["name"] + ("" if m.get("ready") else " (starting)") + (" (leaving)" if m.get("leaving") else "")
            for m in pool.get("members", [])
        )
        counts = f"{pool.get('ready')} ready of {pool.get('desired')} asked"
        lines.append(
            f"  {pool.get('kind')}/{pool.get('name')}: {counts}" + (f" [{members}]" if members else "")
        )
        for error in pool.get("errors") or []:
            lines.append(f"    error: {error}")
    if report["decisions"]:
        lines.append("  last decisions:")
        for d in report["decisions"]:
            change = f"{d.get('current')} -> {d.get('desired')}" if d.get("desired") is not None else "—"
            text = d.get("error") or d.get("message") or ""
            lines.append(f"    {_when(d.get('at'))} {d.get('policy')}: {change} {d.get('reason', '')} {text}")
    return "\n".join(lines)
