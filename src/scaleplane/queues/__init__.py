"""The broker-level queue exporter: what a Celery queue on Redis says about itself, without the app's help.

Rule: this package reads the broker (Redis) and publishes Prometheus series; it imports no Celery, no
application code and nothing of the local platform, so the operator image runs it beside any Celery
deployment (`python -m scaleplane.queues`) and the local platform runs the same code in its exporter.
"""
