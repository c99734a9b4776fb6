"""The local drill backend: every drill scenario on the real servers of `scaleplane.local.ha`.

Rule: entry layer, as the rest of `scaleplane.local`. `drilling` is the backend (`LocalBackend`, what
the drill engine's steps call), with one part per kind of server: `patronidrilling` (the database under
Patroni), `cachedrilling` (Redis with Sentinel), `restoredrilling` (pgBackRest), `leaderdrilling` (the
controller's leader on etcd). `drillfiles` is its state directory (layout, PID records, recovery after
a killed drill) and `alertwatching` the detection time on a real Prometheus and Alertmanager. The
servers themselves, and the fenced controller replicas, are the parent package's: the parts here
start them, inject faults and read what they say.
"""
