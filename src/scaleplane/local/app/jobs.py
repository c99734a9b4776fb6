"""The Celery application of the sample app: one queue, one task that stands for a unit of work.

Workers run it as `celery -A scaleplane.local.app.jobs worker --queues jobs --pool solo`. The broker URL
comes from the environment (`SCALEPLANE_BROKER_URL`, a Redis URL) so the same module serves the API
(which enqueues) and every worker process (which consumes).

Why these settings: the queue's depth is the scaling signal, so a worker must not hoard messages it has
not started (`worker_prefetch_multiplier=1`, `task_acks_late`): with the defaults a fresh worker would
reserve four messages at once and the backlog would hide inside the workers instead of in Redis.

Every message is stamped with the time it was sent (header `jobmarks.ENQUEUED_AT`, Celery's
`before_task_publish` signal), so the platform's exporter can tell the age of the oldest job waiting:
Celery's message protocol carries no send time of its own.
"""

from __future__ import annotations

import os
import time
from typing import Any

from celery import Celery, signals

from scaleplane.local.app import jobmarks

QUEUE = "jobs"  # the Redis list the broker keeps this queue in; `LLEN jobs` is the backlog
BROKER_ENV = "SCALEPLANE_BROKER_URL"
DEFAULT_WORK_SECONDS = 0.5

# The platform always sets the broker; without it Celery would quietly try amqp://localhost.
app = Celery("scaleplane_sample", broker=os.environ.get(BROKER_ENV, "memory://"))
app.conf.update(
    task_default_queue=QUEUE,
    task_acks_late=True,
    worker_prefetch_multiplier=1,
    task_ignore_result=True,
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
    worker_send_task_events=False,
)


@signals.before_task_publish.connect  # type: ignore[untyped-decorator]
def _stamp(headers: dict[str, Any] | None = None, **_: Any) -> None:
    if headers is not None:
        headers.setdefault(jobmarks.ENQUEUED_AT, time.time())


@app.task(name="scaleplane.sample.process")  # type: ignore[untyped-decorator]
def process(item_id: int, work_seconds: float = DEFAULT_WORK_SECONDS) -> int:
    """A job of fixed duration: what a report render or an e-mail batch looks like to the queue."""
    time.sleep(max(0.0, min(float(work_seconds), 30.0)))
    return item_id
