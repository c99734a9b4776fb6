"""Run the platform until asked to stop: `local up` in the foreground, or as the detached controller.

SIGTERM (what `local down` sends), SIGINT (Ctrl-C) and SIGHUP (the terminal went away) all set the
same stop event: the tick in progress finishes, then every pool drains and every server stops before
the process exits. A second signal while stopping is ignored on purpose: stopping is already under way
and interrupting it is what would leave processes behind (the watchdog covers a SIGKILL).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from scaleplane.local import platform, runfiles

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


def install_stop(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in STOP_SIGNALS:
        loop.add_signal_handler(sig, stop.set)


def remove_stop() -> None:
    loop = asyncio.get_running_loop()
    for sig in STOP_SIGNALS:
        with contextlib.suppress(ValueError, RuntimeError):
            loop.remove_signal_handler(sig)
            signal.signal(sig, signal.SIG_IGN)


async def serve(config: platform.PlatformConfig, on_ready: Callable[[platform.Platform], None]) -> None:
    stop = asyncio.Event()
    install_stop(stop)
    try:
        async with platform.Platform(config) as running:
            on_ready(running)
            await running.run(stop)
            remove_stop()
    finally:
        remove_stop()


def spawn_detached(config: platform.PlatformConfig, timeout: float = 240.0) -> dict[str, object]:
    """Start `scaleplane local up --foreground` in its own session; return platform.json once it runs.

    Raises PlatformError with the tail of its log if it exits first or is not up within `timeout`.
    """
    state_dir = config.state_dir.resolve()
    state_dir.mkdir(parents=True, exist_ok=True)
    log_path = state_dir / "controller.log"
    argv = [
        sys.executable, "-c", "from scaleplane.cli import main; main()", "local", "up", "--foreground",
        "--state-dir", str(state_dir), "--policies", str(config.policies.resolve()),
        "--tick", str(config.tick_seconds), *(["--ha-database"] if config.ha_database else []),
    ]  # fmt: skip
    with log_path.open("ab") as log:
        child = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        info = runfiles.read_platform(state_dir)
        if info and info.get("status") == "running" and info.get("pid") == child.pid:
            return info
        if child.poll() is not None:
            raise platform.PlatformError(
                f"the platform exited with code {child.returncode} while starting:\n{_tail(log_path)}"
            )
        time.sleep(0.25)
    raise platform.PlatformError(
        f"the platform was not up within {timeout:g} s (it keeps trying; see {log_path})"
    )


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return ""
