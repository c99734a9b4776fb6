"""The real servers of the local platform, one module each, and the supervision they share.

Rule: each module starts one Debian binary on 127.0.0.1 on a free port, through `processes` (own
process group, PID file, readiness probe, group-wide stop), and knows nothing of policies, pools or the
demo. What a server says (replication state, lag, reads) is read over the network, never from its files.
"""
