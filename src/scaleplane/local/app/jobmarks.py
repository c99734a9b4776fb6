"""The marks the sample app's jobs carry and leave, named once for the app, the workers and the exporter.

A module of names only, without Celery: the platform exporter reads these marks and starts in a fraction
of the time it would take if it imported the Celery app (about a second and a half on a loaded 2-core
machine).

    ENQUEUED_AT    a message header: time.time() when the job was sent (`app.jobs`, before_task_publish)
    FINISHED_KEY   a Redis hash in the broker: `<queue>|<state>` -> jobs finished (`pools.workerhooks`)
"""

from __future__ import annotations

ENQUEUED_AT = "scaleplane_enqueued_at"
FINISHED_KEY = "scaleplane:jobs:finished"
