"""local.servers.interrupts, the SIGTERM handler of drills and of the test run: a second SIGTERM waits;
and tests/support/worker_signals, the same rule for a test run on several workers.

A real process gets real signals: it installs the handler, waits, and on the interrupt runs a cleanup
that takes a second, during which the second SIGTERM arrives (as `uv run` forwarding it, or `pkill -f`
matching the wrappers too, deliver it).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from scaleplane.local.servers import interrupts

REPO = Path(__file__).resolve().parents[2]

CHILD = """
import sys, time, pathlib
from scaleplane.local.servers import interrupts
interrupts.install()
try:
    print("ready", flush=True)
    time.sleep(30)
except KeyboardInterrupt as interrupted:
    print(interrupted, flush=True)
    time.sleep(1.0)  # a teardown that takes time: the second SIGTERM lands in it
    pathlib.Path(sys.argv[1]).write_text("cleaned up")
"""


def test_a_second_sigterm_does_not_interrupt_the_cleanup_the_first_one_started(tmp_path: Path) -> None:
    marker = tmp_path / "cleaned"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(marker)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
        child.send_signal(signal.SIGTERM)
        assert child.stdout.readline().strip() == f"signal {signal.SIGTERM.value}"
        child.send_signal(signal.SIGTERM)
        _, errors = child.communicate(timeout=20)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert marker.read_text() == "cleaned up"
    assert child.returncode == 0, errors
    assert "again: ignored until the cleanup the first one started is over" in errors


def test_sigterm_unwinds_only_inside_its_block() -> None:
    before = signal.getsignal(signal.SIGTERM)
    with interrupts.sigterm_unwinds():
        assert signal.getsignal(signal.SIGTERM) is interrupts.interrupt_once
    assert signal.getsignal(signal.SIGTERM) is before


INNER_CONFTEST = """
import os, subprocess, sys, time, pathlib
import pytest
from tests.support import worker_signals

OUT = pathlib.Path(os.environ["INNER_OUT"])

def pytest_configure(config):
    worker_signals.configure(config)

@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session):
    worker_signals.finished(session.config)

@pytest.fixture(scope="session")
def server():
    # A stand-in for a session's Prometheus: a child process only the finalizer stops, slowly.
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
    (OUT / f"server-{proc.pid}").write_text("")
    yield proc
    time.sleep(12.0)  # a worker's real cleanup (PostgreSQL, Prometheus, ...) outlasts xdist's 10 s wait
    proc.terminate()
    proc.wait()
    (OUT / f"stopped-{proc.pid}").write_text("")
"""
INNER_TESTS = """
import time
def test_a(server): time.sleep(120)
def test_b(server): time.sleep(120)
"""


@pytest.mark.slow
def test_a_sigterm_to_a_run_on_two_workers_lets_each_worker_stop_its_servers(tmp_path: Path) -> None:
    # xdist's controller, interrupted, ends its workers; their session finalizers must run first.
    inner, out = tmp_path / "inner", tmp_path / "out"
    inner.mkdir()
    out.mkdir()
    (inner / "conftest.py").write_text(INNER_CONFTEST)
    (inner / "test_inner.py").write_text(INNER_TESTS)
    # TMPDIR: what the inner run makes (its workers' done folder) stays in tmp_path, even when killed.
    env = {**os.environ, "INNER_OUT": str(out), "PYTHONPATH": str(REPO), "TMPDIR": str(tmp_path)}
    argv = [sys.executable, "-m", "pytest", "-q", "-n", "2", "-p", "no:cacheprovider", str(inner)]
    run = subprocess.Popen(argv, cwd=inner, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    servers: list[int] = []
    try:
        deadline = time.monotonic() + 60
        while len(servers) < 2 and time.monotonic() < deadline:
            servers = [int(p.name.split("-")[1]) for p in out.glob("server-*")]
            time.sleep(0.2)
        assert len(servers) == 2, "the two workers did not start their servers"
        run.send_signal(signal.SIGTERM)  # the controller only, as `kill PID` sends it
        output, _ = run.communicate(timeout=90)
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
        for pid in servers:  # whatever the outcome, nothing of this test outlives it
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    assert {p.name for p in out.glob("stopped-*")} == {f"stopped-{pid}" for pid in servers}, output
