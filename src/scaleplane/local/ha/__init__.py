"""High availability on one machine: etcd, PostgreSQL under Patroni, Redis with Sentinel, pgBackRest, and
(in `drills`) the drill backend that fails them over for real.

Rule: entry layer, like the rest of `scaleplane.local`. It starts and supervises real servers through
`scaleplane.local.servers.processes` (own process group, PID record per process) and never writes a
failover of its own: Patroni elects and promotes, Sentinel elects and reconfigures; this package
only starts them, injects faults (SIGKILL, SIGSTOP) and reads what they say.
"""
