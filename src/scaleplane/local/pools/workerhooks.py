"""Loaded into every Celery worker of a worker pool (`celery worker --include` this module).

It tells the pool, through files the pool names in the environment, when the worker is ready to take
jobs (Celery's `worker_ready` signal: connected to the broker, consuming) and which jobs it finished
(`task_postrun`, one line per job: task id and state). Files rather than Celery's remote control: a
`ping` broadcast costs a round trip through the broker and a timeout per call, a file costs a stat.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from celery import signals

READY_FILE_ENV = "SCALEPLANE_WORKER_READY_FILE"
DONE_FILE_ENV = "SCALEPLANE_WORKER_DONE_FILE"


def _mark_ready(**_: Any) -> None:
    path = os.environ.get(READY_FILE_ENV)
    if path:
        Path(path).write_text(str(os.getpid()))


def _record_done(task_id: str | None = None, state: str | None = None, **_: Any) -> None:
    path = os.environ.get(DONE_FILE_ENV)
    if path:
        with open(path, "a") as done:
            done.write(f"{task_id} {state}\n")


signals.worker_ready.connect(_mark_ready)
signals.task_postrun.connect(_record_done)
