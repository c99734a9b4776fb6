"""local.servers.interrupts, the SIGTERM handler of drills and of the test run: a second SIGTERM waits.

A real process gets real signals: it installs the handler, waits, and on the interrupt runs a cleanup
that takes a second, during which the second SIGTERM arrives (as `uv run` forwarding it, or `pkill -f`
matching the wrappers too, deliver it).
"""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

from scaleplane.local.servers import interrupts

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
