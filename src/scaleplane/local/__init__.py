"""The embedded single-machine platform: starts and supervises real servers and workers.

Rule: an entry point like the operator; composes scaling + metrics + targets around real processes on
127.0.0.1. Every process it starts is tracked by PID and process group and ended on the way out.

Where things live (a room per role):

    servers/   one real server each (PostgreSQL, Redis, Prometheus, Alertmanager, the stock exporters),
               and what runs them: binaries, free ports, supervised processes, the watchdog
    pools/     the scale targets: a pool of members (Celery workers, PostgreSQL replicas, function
               instances) behind the ScaleTarget contract, and which policy kind builds which pool
    app/       the sample application the demo scales
    ha/        etcd, Patroni, Sentinel, pgBackRest, and the drill backend that fails them over
    demo/      `scaleplane demo`: load profiles, the live view, the recording and the report
    (top)      the platform itself: its assembly (platform: what starts and stops in which order),
               its config (settings), the processes around the pools (launching), its loop (looping),
               policy files, the state directory, `local doctor|status`, the platform's own exporter,
               serving in the background
"""
