"""`scaleplane demo` as a process, on real servers: Ctrl-C mid-run stops everything and still reports.

The full three-minute run is what `./run demo` does (its report is kept in docs/demo-report-example/);
here a short run is interrupted as a user would (SIGINT once the load runs) to check the promise that
matters most on a laptop: nothing is left behind, the report of what ran is written, the exit code
says it was interrupted.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from scaleplane.local import runfiles
from scaleplane.local.servers import processes

pytestmark = [pytest.mark.servers, pytest.mark.slow, pytest.mark.timeout(240)]


@pytest.fixture
def workdir() -> Iterator[Path]:
    root = Path(tempfile.mkdtemp(prefix="scaleplane-demo-"))
    root.chmod(0o755)
    try:
        yield root
    finally:
        runfiles.end_leftovers(root / "state")
        shutil.rmtree(root, ignore_errors=True)


def test_ctrl_c_stops_every_process_and_still_writes_the_report(workdir: Path) -> None:
    state, report = workdir / "state", workdir / "report"
    argv = [
        sys.executable, "-c", "from scaleplane.cli import main; main()", "demo", "--profile", "short",
        "--state-dir", str(state), "--report", str(report), "--no-live", "--tick", "1",
    ]  # fmt: skip
    demo = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert demo.stdout is not None
        lines: list[str] = []
        deadline = time.monotonic() + 150
        while time.monotonic() < deadline:
            line = demo.stdout.readline()
            lines.append(line)
            if "flash crowd" in line:  # the load runs and the loop ticks
                break
        else:
            pytest.fail("the demo never reached its flash crowd:\n" + "".join(lines))
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
    assert "## What happened" in text and (report / "replicas.png").exists()
