"""RTO and RPO out of a probe log (pure): what the drill measured, and the verdict against objectives.

rto_seconds        fault -> first acknowledged write that was *started* after the fault. A write in
                   flight at the fault is not evidence of recovery (a blocked commit can come back
                   acknowledged a moment later through the old primary).
rto_read_seconds   the same for reads.
rpo_commits_lost   acknowledged writes missing from the recovered primary.
rpo_seconds        the span of acknowledged history lost: from the last acknowledged write that
                   survived before the first lost one, to the last lost one (0 when nothing is lost).
"""

from __future__ import annotations

from dataclasses import dataclass

from scaleplane.drills.engine import probes, steps

POLICY_MET = "PolicyMet"
POLICY_BREACHED = "PolicyBreached"


@dataclass(frozen=True)
class Measurement:
    rto_seconds: float | None
    rto_read_seconds: float | None
    rpo_commits_lost: int | None
    rpo_seconds: float | None
    writes_acknowledged: int
    writes_failed: int
    reads_ok: int
    reads_failed: int
    lost: tuple[int, ...] = ()


def _first_after(attempts: list[probes.Attempt], fault_at: float) -> float | None:
    times = [a.finished for a in attempts if a.ok and a.started >= fault_at]
    return min(times) - fault_at if times else None


def measure(log: probes.ProbeLog, fault_at: float | None) -> Measurement:
    writes, reads = log.writes(), log.reads()
    acked = sorted(log.acknowledged(), key=lambda a: a.finished)
    rto = rto_read = None
    if fault_at is not None:
        rto = _first_after(writes, fault_at)
        rto_read = _first_after(reads, fault_at)
    lost_commits: int | None = None
    rpo: float | None = None
    lost: list[probes.Attempt] = []
    if log.checked:
        lost = [a for a in acked if a.seq not in log.surviving]
        lost_commits = len(lost)
        rpo = 0.0
        if lost:
            first_lost = lost[0].finished
            kept_before = [a.finished for a in acked if a.finished < first_lost and a.seq in log.surviving]
            rpo = lost[-1].finished - (kept_before[-1] if kept_before else first_lost)
    return Measurement(
        rto_seconds=rto,
        rto_read_seconds=rto_read,
        rpo_commits_lost=lost_commits,
        rpo_seconds=rpo,
        writes_acknowledged=len(acked),
        writes_failed=sum(not a.ok for a in writes),
        reads_ok=sum(a.ok for a in reads),
        reads_failed=sum(not a.ok for a in reads),
        lost=tuple(a.seq for a in lost if a.seq is not None),
    )


def breaches(m: Measurement, objectives: steps.Objectives, measures_writes: bool = True) -> list[str]:
    """Why the drill breached its objectives (empty: PolicyMet). An unmeasured figure is a breach:
    a drill that could not show its RTO has not shown that it meets it."""
    found = []
    if measures_writes:
        if m.writes_acknowledged + m.writes_failed == 0:
            found.append("RTO not measured: no probe wrote anything (no data-plane probe on this target)")
        elif m.rto_seconds is None:
            found.append("no acknowledged write after the fault: RTO not reached")
        elif m.rto_seconds > objectives.rto_seconds:
            found.append(f"RTO {m.rto_seconds:.2f} s > objective {objectives.rto_seconds:g} s")
    if m.rpo_commits_lost is None or m.rpo_seconds is None:
        found.append("the data check did not run: RPO unknown")
    else:
        if m.rpo_commits_lost > objectives.rpo_commits:
            found.append(
                f"{m.rpo_commits_lost} acknowledged commits lost > objective {objectives.rpo_commits}"
            )
        if m.rpo_seconds > objectives.rpo_seconds:
            found.append(f"RPO {m.rpo_seconds:.2f} s > objective {objectives.rpo_seconds:g} s")
    return found
