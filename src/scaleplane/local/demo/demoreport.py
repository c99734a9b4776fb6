"""The demo's report: report.md with PNG timelines (load, queue and workers, replicas per target, reads
per replica), the decisions, replica-hours against static provisioning, and a cross-check that the
decision log and the Prometheus series agree.

Data comes from two places on purpose: the demo's own one-second recording (what the load generator
and the pools saw) and Prometheus' range queries (what the loop's metrics said), fetched before the
platform stops. Plots go through `scaleplane.reporting.plots`, shared with `scaleplane simulate`.
"""

from __future__ import annotations

import datetime as dt
import itertools
import platform as host
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from scaleplane.local import platform as local_platform
from scaleplane.local import statefiles
from scaleplane.local.demo import alertlog, democosts, demoplots, loadgen, recording
from scaleplane.local.pools import targetkinds
from scaleplane.local.servers import alerting
from scaleplane.reporting import markdown

Series = demoplots.Series
STEP_SECONDS = 2
SERVED_QUERY = 'sum(rate(sample_http_requests_total{route="/items/{id}"}[5s]))'
READS_QUERY = "sum by (member) (rate(sample_db_reads_total[5s]))"


def fetch_series(running: local_platform.Platform, recorded: recording.Recording) -> Series:
    """Range queries over the run, from the platform's Prometheus (call before the platform stops)."""
    if running.servers is None or not recorded.rows:
        return {}
    url = f"{running.servers.prometheus.url}/api/v1/query_range"
    window: dict[str, str | float] = {
        "start": recorded.started_at,
        "end": recorded.ended_at + STEP_SECONDS,
        "step": STEP_SECONDS,
    }
    queries = {
        "served": SERVED_QUERY,
        "queue": targetkinds.QUEUE_DEPTH_QUERY,
        "reads": READS_QUERY,
        "desired": "scaleplane_desired_replicas",
        "ready": "scaleplane_ready_replicas",
    }
    found: Series = {}
    for key, query in queries.items():
        try:
            body = requests.get(url, params={"query": query, **window}, timeout=10).json()
        except (requests.RequestException, ValueError):
            continue
        for item in body.get("data", {}).get("result", []):
            labels = item["metric"]
            label = labels.get("policy") or labels.get("member") or ""
            name = f"{key}:{label}" if label else key
            found[name] = [(float(t), float(v)) for t, v in item["values"]]
    return found


@dataclass(frozen=True)
class Hours:
    policy: str
    asked: float  # replica-hours asked for (what a cloud would bill)
    ready: float
    peak: int
    static_peak: float  # replica-hours had the peak been provisioned all along
    static_max: float  # replica-hours at maxReplicas all along


def replica_hours(recorded: recording.Recording, running: local_platform.Platform) -> list[Hours]:
    rows = recorded.rows
    found = []
    for managed in running.managed:
        name = managed.key.name
        asked = ready = 0.0
        peak = 0
        for before, after in itertools.pairwise(rows):
            sample = before.policies.get(name)
            if sample is None:
                continue
            width = after.t - before.t
            asked += (sample.current or 0) * width
            ready += (sample.ready or 0) * width
            peak = max(peak, sample.current or 0)
        span = rows[-1].t - rows[0].t if len(rows) > 1 else 0.0
        found.append(
            Hours(
                name,
                asked / 3600,
                ready / 3600,
                peak,
                peak * span / 3600,
                managed.spec.max_replicas * span / 3600,
            )
        )
    return found


def agreement(decisions: list[dict[str, Any]], series: Series) -> tuple[int, int, list[str]]:
    """Scale events of the log whose desired count Prometheus' scaleplane_desired_replicas also shows."""
    agreed, total, misses = 0, 0, []
    for d in decisions:
        if not d.get("scaled") or d.get("reason") == local_platform.WOKEN:
            continue  # a wake is not a tick: the desired-replicas gauge only shows ticks' decisions
        total += 1
        points = series.get(f"desired:{d['policy']}", [])
        at = float(d["at"])
        # The gauge is set in the same tick; the next scrape (1 s) carries it. Look a few steps ahead.
        window = [v for t, v in points if at - 0.5 <= t <= at + 3 * STEP_SECONDS + 1]
        if int(d["desired"]) in {int(v) for v in window}:
            agreed += 1
        else:
            misses.append(
                f"{d['policy']} {d['current']}->{d['desired']} at {at:.0f}: Prometheus had {window}"
            )
    return agreed, total, misses


def write(
    report_dir: Path,
    running: local_platform.Platform,
    profile: loadgen.Profile,
    recorded: recording.Recording,
    series: Series,
    *,
    title: str,
) -> Path:
    report_dir.mkdir(parents=True, exist_ok=True)
    rows = recorded.rows
    decisions = [
        d
        for d in statefiles.read_decisions(running.decisions_path)
        if recorded.started_at - 1 <= float(d.get("at", 0)) <= recorded.ended_at + 1
    ]
    agreed, total, misses = agreement(decisions, series)
    lines = [f"# {title}", ""]
    lines += _summary(running, recorded, decisions, agreed, total)
    when = dt.datetime.fromtimestamp(recorded.started_at or 0, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines += [
        f"Run {when} on {host.node()} ({host.machine()}, {_cores()} cores), "
        f"{rows[-1].t if rows else 0:.0f} s of load, control-loop tick {running.config.tick_seconds:g} s, "
        f"Prometheus scrape {running.config.scrape_interval}.",
        "",
        f"Profile `{profile.name}`: {profile.description}.",
        "",
        markdown.table(
            ["phase", "seconds", "API reads/s", "jobs enqueued", f"calls/s to {profile.function}"],
            [[p.name, round(p.seconds), p.api_rps, p.jobs, p.calls_per_s] for p in profile.phases],
        ),
    ]
    if rows:
        lines += demoplots.draw(report_dir, running, recorded, series, decisions)
    lines += _decisions(decisions, recorded.started_at)
    # Alerts that fired during the load; their resolution may land after it ended.
    alerts_log = running.state_dir / alerting.LOG_NAME
    lines += alertlog.section(alerts_log, recorded.started_at, recorded.ended_at, running.alerting.hold_scale)
    hours = replica_hours(recorded, running) if len(rows) > 1 else []
    if hours:
        lines += [
            "## Replica-hours",
            "",
            "What each target cost, in replica-hours asked for, against provisioning its peak (or its "
            "maxReplicas) for the whole run.",
            "",
            markdown.table(
                ["policy", "asked", "ready", "peak", "static at peak", "static at max", "saved vs peak"],
                [
                    [
                        h.policy,
                        f"{h.asked:.4f}",
                        f"{h.ready:.4f}",
                        h.peak,
                        f"{h.static_peak:.4f}",
                        f"{h.static_max:.4f}",
                        f"{100 * (1 - h.asked / h.static_peak):.0f}%" if h.static_peak else "-",
                    ]
                    for h in hours
                ],
            ),
        ]
    lines += democosts.against_hpa(recorded, running)
    lines += [
        "## Decision log against Prometheus",
        "",
        f"{agreed} of {total} scale events in `decisions.jsonl` show the same desired count in "
        "Prometheus' `scaleplane_desired_replicas` within the next scrapes.",
        "",
        *[f"- mismatch: {m}" for m in misses],
    ]
    totals = _totals(recorded)
    lines += [
        "## Client side",
        "",
        markdown.table(list(totals), [list(totals.values())]),
        f"Files: decision log `{_shown(running.decisions_path)}`, "
        f"engine state `{_shown(running.state_path)}`.",
        "",
    ]
    path = report_dir / "report.md"
    path.write_text("\n".join(lines))
    return path


def _shown(path: Path) -> Path:
    """The path relative to the working directory when it is inside it (reports get copied around)."""
    try:
        return path.relative_to(Path.cwd())
    except ValueError:
        return path


def _summary(
    running: local_platform.Platform,
    recorded: recording.Recording,
    decisions: list[dict[str, Any]],
    agreed: int,
    total: int,
) -> list[str]:
    """A few sentences a reader can check against the plots: where each target went, and when."""
    lines = ["## What happened", ""]
    start = recorded.started_at
    for managed in running.managed:
        name = managed.key.name
        scaled = [d for d in decisions if d.get("policy") == name and d.get("scaled")]
        counts = [r.policies[name].ready for r in recorded.rows if name in r.policies]
        ready = [c for c in counts if c is not None]
        if not scaled:
            lines.append(f"- **{name}** did not scale ({ready[-1] if ready else '?'} ready throughout).")
            continue
        path = " -> ".join([str(scaled[0]["current"]), *(str(d["desired"]) for d in scaled)])
        first, last = float(scaled[0]["at"]) - start, float(scaled[-1]["at"]) - start
        lines.append(
            f"- **{name}** ({managed.spec.target_ref.kind}): {path} replicas, "
            f"first change at +{first:.0f} s, last at +{last:.0f} s; "
            f"at most {max(ready) if ready else '?'} ready at once."
        )
    totals = _totals(recorded)
    lines += [
        f"- The API answered {totals['reads ok']:,} reads and failed {totals['reads failed']:,} "
        f"(the generator shed {totals['shed by the generator']:,} while 64 were already waiting).",
        f"- {agreed} of {total} scale events of the decision log show the same count in Prometheus.",
    ]
    if totals["calls sent"]:
        lines.append(
            f"- The function answered {totals['calls ok']:,} of {totals['calls sent']:,} calls through the "
            f"gateway ({totals['calls failed']:,} failed, {totals['calls shed']:,} shed by the generator); "
            f"{totals['cold starts']:,} of them waited for a cold start."
        )
    return [*lines, ""]


def _cores() -> int:
    import os

    return os.cpu_count() or 0


def _totals(recorded: recording.Recording) -> dict[str, Any]:
    rows = recorded.rows
    p95 = sorted(r.p95_ms for r in rows if r.p95_ms is not None)
    return {
        "reads ok": sum(r.ok for r in rows),
        "reads failed": sum(r.failed for r in rows),
        "shed by the generator": sum(r.shed for r in rows),
        "worst 1-s p95 (ms)": f"{p95[-1]:.1f}" if p95 else "-",
        "median 1-s p95 (ms)": f"{p95[len(p95) // 2]:.1f}" if p95 else "-",
        "calls sent": recorded.calls.get("calls", 0),
        "calls ok": recorded.calls.get("calls_ok", 0),
        "calls failed": recorded.calls.get("calls_failed", 0),
        "calls shed": recorded.calls.get("calls_shed", 0),
        "cold starts": recorded.calls.get("cold_starts", 0),
    }


def _decisions(decisions: list[dict[str, Any]], start: float) -> list[str]:
    scaled = [d for d in decisions if d.get("scaled") or d.get("error")]
    lines = ["## Decisions", ""]
    if not scaled:
        return [*lines, "No scale event in this run.", ""]
    rows = [
        [
            f"+{float(d['at']) - start:.0f}s",
            d["policy"],
            f"{d.get('current')} -> {d.get('desired')}" if d.get("desired") is not None else "-",
            d.get("reason") or "error",
            str(d.get("error") or d.get("message") or "").replace("\n", " ")[:160],
        ]
        for d in scaled
    ]
    return [*lines, markdown.table(["when", "policy", "change", "reason", "why"], rows)]
