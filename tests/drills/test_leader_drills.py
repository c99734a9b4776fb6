"""operator-leader-loss on real servers: etcd holds the fenced leader key, two controller replicas run
the real tick against a real Prometheus (with the project's alert rules and a real Alertmanager), the
leader is SIGKILLed. The standby takes over within the objective; the actuation record read back from
etcd has no decision missed or doubled; the alert that watches leadership went pending and, because
the takeover was shorter than its hold, did not fire (null, not a guess); no process is left."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.drills.test_local_drills import SCALEPLANE, drill_dir, processes_under

pytestmark = [pytest.mark.servers, pytest.mark.slow]
__all__ = ["drill_dir"]  # the fixture, shared with the other local drills


def test_operator_leader_loss_the_standby_takes_over_with_nothing_missed_or_doubled(drill_dir: Path) -> None:
    state = drill_dir / "state"
    argv = [*SCALEPLANE, "drill", "run", "operator-leader-loss", "--target", "local", "--execute", "--json",
            "--state-dir", str(state), "--reports-dir", str(drill_dir / "reports")]  # fmt: skip
    done = subprocess.run(argv, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    data = json.loads(done.stdout)
    assert (data["scenario"], data["target"], data["executed"]) == ("operator-leader-loss", "local", True)
    assert data["verdict"] == "PolicyMet", data["breaches"]
    # The etcd lease is 3 s: the standby cannot act before it expires, and acts within a few retries.
    assert 1.0 < data["rto_seconds"] < data["objectives"]["rto_seconds"]
    assert (data["rpo_commits_lost"], data["rpo_seconds"]) == (0, 0.0)
    steps = {s["id"]: s for s in data["steps"]}
    assert all(s["ok"] for s in steps.values()), steps
    assert "0 doubled, 0 missed" in steps["verify-actuations"]["observed"]
    assert "0 under a stale token" in steps["verify-actuations"]["observed"]
    assert "stands by" in steps["rejoin-old-leader"]["observed"]
    assert {"fault", "failover", "fail back"} <= set(data["timeline"])
    # Every live replica reported scaleplane_leader 0 during the gap, so the rule may go pending: only
    # if an evaluation and the watcher's poll both fall in the ~3 s gap (about one run in two here).
    # The takeover always comes before its hold, so nothing fires and detection is null.
    alerts = {a["alert"]: a for a in data["alerts"]}
    if "ScaleplaneOperatorNotLeading" in alerts:
        pending = alerts["ScaleplaneOperatorNotLeading"]["pending_seconds"]
        assert pending is not None and 0 < pending < data["rto_seconds"] + 1.5
        assert alerts["ScaleplaneOperatorNotLeading"]["fired_seconds"] is None
    assert all(a["fired_seconds"] is None for a in alerts.values()), alerts
    assert data["detection_seconds"] is None
    report = Path(data["report"]["markdown"]).read_text()
    assert "| Detection (fault to the first alert notified) | no alert fired |" in report
    # The rollback deleted the servers' data but kept their logs, each replica's acknowledged actuations too.
    logs = Path(data["report"]["logs"])
    assert {"etcd.log", "controller-a.log", "controller-b.acks.jsonl"} <= {p.name for p in logs.iterdir()}
    assert processes_under(drill_dir) == []
