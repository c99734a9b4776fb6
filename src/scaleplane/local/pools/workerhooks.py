"""Loaded into every Celery worker of a worker pool (`celery worker --include` this module).

It tells the pool, through files the pool names in the environment, when the worker is ready to take
jobs (Celery's `worker_ready` signal: connected to the broker, consuming) and which jobs it finished
(`task_postrun`, one line per job: task id and state). Files rather than Celery's remote control: a
`ping` broadcast costs a round trip through the broker and a timeout per call, a file costs a stat.

It also counts every finished job in the broker's Redis (`HINCRBY scaleplane:jobs:finished
<queue>|<state> 1`), which the platform's exporter publishes as the queues' throughput
(`scaleplane_local_jobs_finished_total`): one counter for all workers, that outlives a worker scaled
away. Celery's own events would do it too, but they cost every worker an event per job and an event
consumer besides; a cluster runs an events exporter (docs/observability.md).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import redis
from celery import signals

from scaleplane.local.app import jobmarks

READY_FILE_ENV = "SCALEPLANE_WORKER_READY_FILE"
DONE_FILE_ENV = "SCALEPLANE_WORKER_DONE_FILE"
BROKER_ENV = "SCALEPLANE_BROKER_URL"
_broker: redis.Redis | None = None


def _mark_ready(**_: Any) -> None:
    path = os.environ.get(READY_FILE_ENV)
    if path:
        Path(path).write_text(str(os.getpid()))


def _record_done(task_id: str | None = None, state: str | None = None, **_: Any) -> None:
    path = os.environ.get(DONE_FILE_ENV)
    if path:
        with open(path, "a") as done:
            done.write(f"{task_id} {state}\n")


def _count_finished(task: Any = None, state: str | None = None, **_: Any) -> None:
    global _broker
    url = os.environ.get(BROKER_ENV)
    if not url or not url.startswith("redis://"):
        return
    delivery = getattr(getattr(task, "request", None), "delivery_info", None) or {}
    queue = delivery.get("routing_key") or "unknown"
    try:
        if _broker is None:
            _broker = redis.Redis.from_url(url, socket_timeout=1)
        _broker.hincrby(jobmarks.FINISHED_KEY, f"{queue}|{state or 'UNKNOWN'}", 1)
    except redis.RedisError:  # a lost count, never a failed job
        _broker = None


signals.worker_ready.connect(_mark_ready)
signals.task_postrun.connect(_record_done)
signals.task_postrun.connect(_count_finished)
