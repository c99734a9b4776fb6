"""The sample application the demo scales: an HTTP API and the Celery jobs it enqueues.

Rule: an ordinary small web service, written the way a team would write theirs, that knows nothing of
scaleplane's engine. It reads from whatever read pool it is given (the replicas, or the primary when
there are none), caches in Redis, enqueues Celery jobs, and exposes its own request metrics on
`/metrics`. Servers and pools are started by the platform; this package only runs inside them.
"""
