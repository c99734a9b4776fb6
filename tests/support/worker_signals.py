"""The test run's SIGTERM rule, on one process or on several (pytest-xdist, as `./run test` runs it).

One process: `local.servers.interrupts` (the first SIGTERM unwinds like Ctrl-C, so the fixtures'
finalizers stop the servers; later ones wait for that cleanup).

Several: the servers (each worker's session Prometheus, PostgreSQL, Redis, moto_server) belong to the
workers, and only their finalizers stop them. xdist's controller, interrupted, ends its workers
without running those: a `kill PID` of the run left every worker's servers behind. So the controller
sends the SIGTERM on to each worker, waits until each has finished its cleanup (at most
`WORKER_CLEANUP_SECONDS`), and only then unwinds itself. A worker stays alive after its session (it
waits for the controller), so "finished" is a file it writes once its session's finalizers have run
(`finished`, from the conftest's last `pytest_sessionfinish`), in a folder the controller makes and
hands down in `DONE_ENV`. A SIGTERM to the whole process group (a CI cancel) reaches the workers
directly as well; the copy the controller forwards is then the second one, which they ignore.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import tempfile
import time
from pathlib import Path
from types import FrameType

import pytest

from scaleplane.local.servers import interrupts, processes

WORKER_CLEANUP_SECONDS = 90.0  # a worker stops its servers and the drills' leftovers in seconds
DONE_ENV = "PYTEST_SCALEPLANE_WORKERS_DONE_DIR"  # not SCALEPLANE_*: that is the operator's settings


def configure(config: pytest.Config) -> None:
    """Install the rule for this process: the controller of a run on workers, or any other. Called
    before the workers start, so they inherit `DONE_ENV`."""
    on_workers = bool(getattr(config.option, "numprocesses", None)) and not hasattr(config, "workerinput")
    if on_workers:
        done = tempfile.mkdtemp(prefix="scaleplane-tests-workers-")
        os.environ[DONE_ENV] = done
        config.add_cleanup(lambda: shutil.rmtree(done, ignore_errors=True))
        signal.signal(signal.SIGTERM, forward_then_interrupt)
    else:
        interrupts.install()


def finished(config: pytest.Config) -> None:
    """In a worker, after its session's finalizers: tell the controller this worker's cleanup is over."""
    done, worker = os.environ.get(DONE_ENV), getattr(config, "workerinput", {}).get("workerid")
    if done and worker:
        (Path(done) / str(worker)).write_text(str(os.getpid()))


def running(pid: int) -> bool:
    return processes.start_ticks(pid) is not None  # a zombie has finished too


def forward_then_interrupt(signum: int, frame: FrameType | None) -> None:
    """The controller's SIGTERM handler: the workers clean up first, then the controller unwinds."""
    signal.signal(signal.SIGTERM, interrupts.ignore_again)
    workers = processes.children(os.getpid())
    for pid in workers:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    done = Path(os.environ.get(DONE_ENV, "/nonexistent"))
    deadline = time.monotonic() + WORKER_CLEANUP_SECONDS
    while time.monotonic() < deadline:
        cleaned = {int(p.read_text() or 0) for p in done.glob("gw*")} if done.is_dir() else set()
        if all(pid in cleaned or not running(pid) for pid in workers):
            break
        time.sleep(0.2)
    shutil.rmtree(done, ignore_errors=True)  # an interrupted controller does not reach add_cleanup
    raise KeyboardInterrupt(f"signal {signum}")
