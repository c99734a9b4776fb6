"""The local scale targets: pools of supervised members behind the ScaleTarget contract.

Rule: a pool starts and stops members (Celery workers, pg_basebackup'd PostgreSQL replicas, function
instances) through `scaleplane.local.servers`, reports asked and ready counts, and never decides a
count: the control loop does. `targetkinds` maps a policy's `targetRef.kind` to the pool that serves it.
"""
