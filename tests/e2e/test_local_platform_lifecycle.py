"""`scaleplane local up|status|down` as a user runs them: in the background, on real servers.

One detached platform (a worker pool only, to keep it quick) is taken through what can go wrong:
the remembered replica count is resumed, a second `up` is refused, the controller is killed with
SIGKILL (the watchdog must end every process), a new `up` starts cleanly over the leftovers' files,
and `down` leaves no process behind.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from scaleplane.local import runfiles, statefiles
from scaleplane.local.pools import targetkinds
from scaleplane.local.servers import processes
from scaleplane.scaling import decisions

pytestmark = [pytest.mark.servers, pytest.mark.slow, pytest.mark.timeout(300)]

WORKERS = f"""
apiVersion: scaleplane.io/v1alpha1
kind: ScalingPolicy
metadata: {{name: workers}}
spec:
  targetRef: {{kind: WorkerPool, name: workers}}
  minReplicas: 1
  maxReplicas: 4
  metrics:
    - {{name: backlog, query: '{targetkinds.QUEUE_DEPTH_QUERY}', target: {{type: AverageValue, value: 10}}}}
"""


def scaleplane(*args: str, timeout: float = 200) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-c", "from scaleplane.cli import main; main()", *args]
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout)


def gone(records: list[processes.PidRecord], within: float) -> list[str]:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        alive = [f"{r.name} ({r.pid})" for r in records if processes.alive(r)]
        if not alive:
            return []
        time.sleep(0.2)
    return alive


def test_up_status_crash_and_down(workdir: Path) -> None:
    state = workdir / "state"
    policy = workdir / "workers.yaml"
    policy.write_text(WORKERS)
    flags = ["--state-dir", str(state), "--policies", str(policy), "--tick", "1"]
    # A previous run stopped at 3 workers: the next up resumes there, not at minReplicas.
    state.mkdir()
    statefiles.save_state(
        state / "state.json", {"workers": statefiles.Remembered(decisions.ScalingState(), 3, 1.0)}
    )

    started = scaleplane("local", "up", *flags)
    assert started.returncode == 0, started.stderr + started.stdout
    assert "local platform running" in started.stdout
    assert "workers: resumed at 3" in (state / "controller.log").read_text()

    again = scaleplane("local", "up", *flags)
    assert again.returncode == 2  # an error, not "a check found violations"
    assert "already runs" in again.stderr and "scaleplane local down" in again.stderr

    status = scaleplane("local", "status", "--state-dir", str(state), "--json")
    report = json.loads(status.stdout)
    assert report["state"] == "running"
    assert [(p["name"], p["desired"]) for p in report["pools"]] == [("workers", 3)]

    # The controller dies without a chance to clean up: the watchdog ends everything it started.
    records = [r for r in runfiles.live_records(state) if r.name != "controller"]
    assert {"prometheus", "redis", "postgres-primary", "sample-app", "exporter", "watchdog"} <= {
        r.name for r in records
    }
    assert sum(r.name.startswith("workers-") for r in records) == 3
    controller = runfiles.supervisor(state)
    assert controller is not None
    os.kill(controller.pid, signal.SIGKILL)
    assert gone(records, within=30) == []
    leftovers = scaleplane("local", "status", "--state-dir", str(state))
    assert "running" not in leftovers.stdout.splitlines()[0]

    # A new up starts over the dead run's files; down stops it and nothing remains.
    restarted = scaleplane("local", "up", *flags)
    assert restarted.returncode == 0, restarted.stderr + restarted.stdout
    records = runfiles.live_records(state)
    stopped = scaleplane("local", "down", "--state-dir", str(state))
    assert stopped.returncode == 0, stopped.stderr
    assert "no process of the platform is left" in stopped.stdout
    assert gone(records, within=5) == []
    assert runfiles.live_records(state) == []
    assert scaleplane("local", "down", "--state-dir", str(state)).stdout.strip() == "nothing was running"
