"""The failover scenarios: a database primary, a synchronous standby, a cache primary dies.

Objectives are those a team would sign for the local platform's settings (Patroni ttl 10 s, loop_wait 1
s, synchronous_mode on; Sentinel down-after-milliseconds 1 s): a hard primary loss is replaced once the
leader lease expires, so its RTO objective is 30 s; a synchronous standby means no acknowledged commit
may be lost.
"""

from __future__ import annotations

from scaleplane.drills.engine.steps import Objectives, Phase, Scenario, Step

START_CLUSTER = Step(
    "start-cluster",
    Phase.PREPARE,
    "Start etcd and three PostgreSQL members under Patroni with synchronous_mode on.",
    "Patroni reports a leader and a synchronous standby.",
    120,
)
START_PROBES = Step(
    "start-probes",
    Phase.PREPARE,
    "Start the probe writer (numbered commits through the multi-host DSN, target_session_attrs=read-write) "
    "and the probe reader (target_session_attrs=prefer-standby).",
    "Writes are acknowledged and reads are served.",
    30,
)
VERIFY_WRITES = Step(
    "verify-writes-resume",
    Phase.VERIFY,
    "Watch the probe writer: the application's own DSN, unchanged, finds the new primary.",
    "A write started after the fault is acknowledged.",
    60,
)
VERIFY_READS = Step(
    "verify-reads-resume",
    Phase.VERIFY,
    "Watch the probe reader.",
    "A read started after the fault is served.",
    60,
)
VERIFY_DATA = Step(
    "verify-acknowledged-commits",
    Phase.VERIFY,
    "Stop the probes and read every number back from the current primary.",
    "The data check ran; acknowledged commits missing are counted against the RPO objective.",
    30,
)
STOP_CLUSTER = Step(
    "stop-cluster",
    Phase.ROLLBACK,
    "Stop the probes, every Patroni member (each stops its PostgreSQL) and etcd; delete the drill's data.",
    "No process of the drill remains.",
    90,
)

DB_PRIMARY_LOSS = Scenario(
    name="db-primary-loss",
    summary="The primary database dies at once (local: SIGKILL to Patroni and PostgreSQL; kubernetes: its "
    "Pod deleted; aws: an FIS failover); the HA system promotes a standby, the synchronous one if any.",
    steps=(
        START_CLUSTER,
        START_PROBES,
        Step(
            "kill-primary",
            Phase.INJECT,
            "SIGKILL the leader's Patroni and its PostgreSQL process group.",
            "The member's processes are gone.",
            10,
        ),
        Step(
            "detect-primary-down",
            Phase.DETECT,
            "Watch writes and Patroni's member list.",
            "Writes fail and the old leader no longer answers.",
            15,
        ),
        Step(
            "decide-failover-candidate",
            Phase.DECIDE,
            "Check that the member Patroni will promote is the synchronous standby (it has every "
            "acknowledged commit): no manual failover, no data to reconcile.",
            "The synchronous standby of before the fault is alive and eligible.",
            10,
        ),
        Step(
            "await-promotion",
            Phase.ACT,
            "Let Patroni promote (its leader lease expires, the synchronous standby takes the lock).",
            "A new leader, and it is the former synchronous standby.",
            60,
        ),
        VERIFY_WRITES,
        VERIFY_READS,
        VERIFY_DATA,
        Step(
            "rejoin-old-primary",
            Phase.FAIL_BACK,
            "Start the lost member again: Patroni pg_rewinds it and it follows the new leader.",
            "It streams from the new leader on its timeline; a synchronous standby exists again.",
            120,
        ),
    ),
    rollback=(STOP_CLUSTER,),
    objectives=Objectives(rto_seconds=30, rpo_seconds=0, rpo_commits=0),
)

DB_REPLICA_LOSS = Scenario(
    name="db-replica-loss",
    summary="The synchronous standby dies at once; commits wait until Patroni names another synchronous "
    "standby, the primary stays.",
    steps=(
        START_CLUSTER,
        START_PROBES,
        Step(
            "kill-sync-standby",
            Phase.INJECT,
            "SIGKILL the synchronous standby's Patroni and PostgreSQL.",
            "The member's processes are gone.",
            10,
        ),
        Step(
            "detect-replica-down",
            Phase.DETECT,
            "Watch Patroni's member list.",
            "The lost member is no longer listed as running.",
            30,
        ),
        Step(
            "decide-keep-primary",
            Phase.DECIDE,
            "Check that the primary is unaffected: no failover is needed, only a new synchronous standby.",
            "The leader is the same as before the fault.",
            10,
        ),
        Step(
            "await-new-sync-standby",
            Phase.ACT,
            "Let Patroni name the remaining replica as the synchronous standby.",
            "Another member is the synchronous standby.",
            30,
        ),
        VERIFY_WRITES,
        VERIFY_READS,
        VERIFY_DATA,
        Step(
            "rejoin-lost-replica",
            Phase.FAIL_BACK,
            "Start the lost member again; it re-joins as a replica.",
            "It streams from the leader again.",
            120,
        ),
    ),
    rollback=(STOP_CLUSTER,),
    objectives=Objectives(rto_seconds=15, rpo_seconds=0, rpo_commits=0),
)

CACHE_PRIMARY_LOSS = Scenario(
    name="cache-primary-loss",
    summary="The Redis primary dies at once (SIGKILL); the sentinels agree it is down and promote a replica.",
    steps=(
        Step(
            "start-cache",
            Phase.PREPARE,
            "Start a Redis primary, two replicas and three sentinels (quorum 2).",
            "Both replicas are linked and every sentinel names the same primary.",
            60,
        ),
        Step(
            "start-cache-probes",
            Phase.PREPARE,
            "Start the probe writer (numbered RPUSH, acknowledged once WAIT 1 confirms a replica has it) and "
            "reader, both through redis-py's Sentinel client.",
            "Writes are acknowledged and reads are served.",
            30,
        ),
        Step("kill-cache-primary", Phase.INJECT, "SIGKILL the Redis primary.", "Its process is gone.", 10),
        Step(
            "detect-cache-primary-down",
            Phase.DETECT,
            "Watch the writer and the primary's port.",
            "The primary does not answer and writes fail.",
            15,
        ),
        Step(
            "decide-sentinel-quorum",
            Phase.DECIDE,
            "Check that a quorum of sentinels is alive: the failover is theirs, not yours.",
            "At least 2 of 3 sentinels answer.",
            10,
        ),
        Step(
            "await-sentinel-failover",
            Phase.ACT,
            "Let the sentinels elect a leader among themselves and promote the best replica.",
            "Every sentinel names a new primary, one of the former replicas.",
            60,
        ),
        Step(
            "verify-writes-resume",
            Phase.VERIFY,
            "Watch the probe writer: the Sentinel client asks the sentinels for the new primary.",
            "A write started after the fault is acknowledged (and replicated).",
            60,
        ),
        Step(
            "verify-reads-resume",
            Phase.VERIFY,
            "Watch the probe reader.",
            "A read started after the fault is served.",
            60,
        ),
        Step(
            "verify-acknowledged-writes",
            Phase.VERIFY,
            "Stop the probes and read the whole list back from the new primary.",
            "The data check ran; acknowledged writes missing are counted against the RPO objective.",
            30,
        ),
        Step(
            "rejoin-old-cache-primary",
            Phase.FAIL_BACK,
            "Start the lost node again (empty, as a primary): Sentinel turns it into a replica.",
            "It is a replica of the new primary, linked.",
            60,
        ),
    ),
    rollback=(
        Step(
            "stop-cache",
            Phase.ROLLBACK,
            "Stop the probes, the sentinels and every Redis node.",
            "No process of the drill remains.",
            60,
        ),
    ),
    objectives=Objectives(rto_seconds=10, rpo_seconds=0, rpo_commits=0),
)
