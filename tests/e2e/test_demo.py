"""`scaleplane demo` as a process, on real servers: the function goes 0 -> N -> 0 with no call lost,
and Ctrl-C mid-run stops everything and still reports.

The full three-minute run is what `./run demo` does (its report is kept in docs/demo-report-example/);
here the short profile (function calls in its first ten seconds) runs until the demo's function has
woken, scaled and gone back to zero, then is interrupted as a user would (SIGINT while the load still
runs) to check the promise that matters most on a laptop: nothing is left behind, the report of what
ran is written, the exit code says it was interrupted. Its output is a pipe, as in a CI log, and
the demo prints one line per tick there without being told (`--no-live` is the default off a terminal).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from scaleplane.local import runfiles
from scaleplane.local.servers import processes

pytestmark = [pytest.mark.servers, pytest.mark.slow, pytest.mark.timeout(300)]
FUNCTION = re.compile(r"fn-demo-thumbnail (?P<ready>\d+)/(?P<current>\d+)->")


def test_ctrl_c_stops_every_process_and_still_writes_the_report(workdir: Path) -> None:
    state, report = workdir / "state", workdir / "report"
    # no --no-live: in a pipe the demo prints a line per tick by itself
    argv = [
        sys.executable, "-c", "from scaleplane.cli import main; main()", "demo", "--profile", "short",
        "--state-dir", str(state), "--report", str(report), "--tick", "1",
    ]  # fmt: skip
    demo = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert demo.stdout is not None
        lines: list[str] = []
        path: list[int] = []  # the function's ready instances, one per line the demo prints a tick
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            line = demo.stdout.readline()
            lines.append(line)
            found = FUNCTION.search(line)
            if found and (not path or path[-1] != int(found["ready"])):
                path.append(int(found["ready"]))
            if path and max(path) >= 2 and path[-1] == 0:
                break  # woken, scaled past one instance, back to zero; the load still runs
        else:
            pytest.fail(f"the function did not go 0 -> N -> 0 ({path}):\n" + "".join(lines))
        running = [r for r in runfiles.live_records(state) if r.name != "controller"]
        assert {"prometheus", "redis", "postgres-primary", "sample-app", "exporter", "watchdog"} <= {
            r.name for r in running
        }
        os.kill(demo.pid, signal.SIGINT)
        out, _ = demo.communicate(timeout=120)
    finally:
        if demo.poll() is None:
            demo.kill()
    assert demo.returncode == 130, "".join(lines) + out
    assert "stopped; no process of the platform is left" in out
    assert f"report: {report / 'report.md'}" in out
    assert [r.name for r in running if processes.alive(r)] == []
    assert runfiles.live_records(state) == []
    text = (report / "report.md").read_text()
    assert text.startswith("# scaleplane demo · short (interrupted)")
    assert re.search(r"\*\*fn-demo-thumbnail\*\* \(FunctionPool\): 0 -> .* -> 0 replicas", text), text
    calls = re.search(r"answered ([\d,]+) of ([\d,]+) calls .*\((\d+) failed, (\d+) shed", text)
    assert calls is not None, text
    answered, sent, failed, shed = (int(g.replace(",", "")) for g in calls.groups())
    assert sent >= 100 and answered == sent and failed == shed == 0, "no call lost"
    assert "## What happened" in text and (report / "replicas.png").exists()
