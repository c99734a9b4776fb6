"""The timeline PNG of a drill: probe writes and reads (acknowledged / failed) over time, with the
marks (fault, detected, failover, first write, fail back) as vertical lines."""

from __future__ import annotations

from pathlib import Path

from scaleplane.drills.engine import running


def write_png(result: running.DrillResult, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t0 = result.started
    fig, ax = plt.subplots(figsize=(10, 3.2), dpi=100)
    rows = {"write": 1.0, "read": 0.0}
    for kind, y in rows.items():
        for ok, color in ((True, "tab:green"), (False, "tab:red")):
            xs = [a.finished - t0 for a in result.probe_log.attempts if a.kind == kind and a.ok is ok]
            ax.scatter(xs, [y] * len(xs), s=6, color=color, label=f"{kind} {'ok' if ok else 'failed'}")
    for index, (name, at) in enumerate(sorted(result.marks.items(), key=lambda item: item[1])):
        ax.axvline(at - t0, color="tab:blue" if name != "fault" else "black", linestyle="--", linewidth=1)
        ax.text(at - t0, 1.3 + 0.15 * (index % 3), name, fontsize=8, rotation=0)
    ax.set_yticks(list(rows.values()), list(rows))
    ax.set_ylim(-0.5, 1.9)
    ax.set_xlabel("seconds since the drill started")
    m = result.measurement
    rto = f"RTO {m.rto_seconds:.2f} s" if m and m.rto_seconds is not None else "RTO not measured"
    lost = f"{m.rpo_commits_lost} acknowledged commits lost" if m and m.rpo_commits_lost is not None else ""
    ax.set_title(f"{result.scenario.name} on {result.target}: {rto}, {lost} ({result.verdict})", fontsize=10)
    ax.legend(loc="lower right", fontsize=7, ncol=4)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path
