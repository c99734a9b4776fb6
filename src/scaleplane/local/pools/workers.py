"""Worker pool: N Celery worker processes consuming one queue on the Redis broker.

Each worker is `celery -A <app module> worker --queues <queue> --pool solo` in its own process group,
so one member is one process doing one job at a time: the pool size is the concurrency, which is what
the queue policy scales. The sample app's Celery app (`scaleplane.local.app.jobs`) is the default.

Ready = Celery's `worker_ready` fired (connected and consuming; see `workerhooks`).
Scale down = SIGTERM, Celery's warm shutdown: the worker stops taking jobs and finishes the one it is
running before it exits. Only after `drain_timeout` is it killed; with the sample app's `task_acks_late`
the job it was running then goes back to the queue instead of being lost.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

from scaleplane.local.pools import members, workerhooks
from scaleplane.local.servers import processes

DEFAULT_APP = "scaleplane.local.app.jobs"
DEFAULT_QUEUE = "jobs"  # scaleplane.local.app.jobs.QUEUE (not imported: that would import Celery here)
START_TIMEOUT = 60.0


class WorkerPool(members.Pool):
    kind = "WorkerPool"

    def __init__(
        self,
        name: str,
        state_dir: Path,
        *,
        broker_url: str,
        app_module: str = DEFAULT_APP,
        queue: str = DEFAULT_QUEUE,
        drain_timeout: float = 60.0,
        max_replicas: int = 50,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        super().__init__(name, state_dir, max_replicas=max_replicas)
        self.broker_url = broker_url
        self.app_module = app_module
        self.queue = queue
        self.drain_timeout = drain_timeout
        self.extra_env = extra_env or {}

    def ready_file(self, member: members.Member) -> Path:
        return self.run_dir / f"{member.name}.ready"

    def done_file(self, member_name: str) -> Path:
        return self.run_dir / f"{member_name}.done"

    def jobs_done(self) -> dict[str, int]:
        """Jobs finished per worker (members past and present of this run), from the workers' own records."""
        return {path.stem: len(path.read_text().splitlines()) for path in sorted(self.run_dir.glob("*.done"))}

    def _process(self, member: members.Member) -> processes.SupervisedProcess:
        env = {
            **os.environ,
            "SCALEPLANE_BROKER_URL": self.broker_url,
            workerhooks.READY_FILE_ENV: str(self.ready_file(member)),
            workerhooks.DONE_FILE_ENV: str(self.done_file(member.name)),
            "PYTHONUNBUFFERED": "1",
            **self.extra_env,
        }
        argv = [
            sys.executable, "-m", "celery", "-A", self.app_module, "worker",
            "--queues", self.queue, "--pool", "solo", "--hostname", f"{member.name}@%h",
            "--include", workerhooks.__name__, "--loglevel", "INFO",
            "--without-gossip", "--without-mingle", "--without-heartbeat",
        ]  # fmt: skip
        return processes.SupervisedProcess(
            member.name,
            argv,
            run_dir=self.run_dir,
            env=env,
            stop_signal=signal.SIGTERM,
            stop_timeout=self.drain_timeout,
        )

    async def _bring_up(self, member: members.Member) -> None:
        ready_file = self.ready_file(member)
        ready_file.unlink(missing_ok=True)
        process = self._process(member)
        member.handle = process
        await self._thread(member, process.start)
        deadline = time.monotonic() + START_TIMEOUT
        while not ready_file.exists():
            code = process.exit_code()
            if code is not None:
                raise processes.ProcessFailed(
                    f"worker exited with code {code} while starting", process.log_tail()
                )
            if time.monotonic() > deadline:
                raise processes.ProcessFailed(
                    f"worker not ready within {START_TIMEOUT:g} s", process.log_tail()
                )
            await asyncio.sleep(0.1)

    def _alive(self, member: members.Member) -> bool:
        process: processes.SupervisedProcess | None = member.handle
        return process is not None and process.running()

    async def _stop(self, member: members.Member) -> None:
        process: processes.SupervisedProcess | None = member.handle
        if process is not None:
            await asyncio.to_thread(process.stop)
        self.ready_file(member).unlink(missing_ok=True)

    async def _cleanup_leftovers(self) -> None:
        for stale in [*self.run_dir.glob("*.ready"), *self.run_dir.glob("*.done")]:
            stale.unlink(missing_ok=True)

    def _describe(self, member: members.Member) -> dict[str, Any]:
        process: processes.SupervisedProcess | None = member.handle
        return {"pid": process.pid if process else None}
