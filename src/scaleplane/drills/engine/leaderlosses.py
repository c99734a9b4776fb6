"""The operator-leader-loss scenario: the controller replica that holds the lease dies; the standby
takes over, and no scaling decision is missed or applied twice.

Objectives for the local platform's timing (leader key on an etcd lease of 3 s, renew deadline 2 s,
retry 0.5 s): the key expires at most 3 s after the last keep-alive and the standby tries every 0.5 s,
so 10 s covers it with margin on a busy machine. "RPO" here is decisions, not commits: no decision
applied twice, none missed while a replica led (the data check, `drills.actuations`).
"""

from __future__ import annotations

from scaleplane.drills.engine.steps import Objectives, Phase, Scenario, Step

OPERATOR_LEADER_LOSS = Scenario(
    name="operator-leader-loss",
    summary="The controller replica that holds the leader lease dies at once (local: SIGKILL; kubernetes: "
    "its Pod deleted); the standby takes the lease after it expires and actuates, with no decision missed "
    "and none applied twice.",
    steps=(
        Step(
            "start-controllers",
            Phase.PREPARE,
            "Start the store that holds the lease (local: etcd), Prometheus with the alert rules, "
            "Alertmanager, and two controller replicas.",
            "One replica leads and actuates; the other is a standby.",
            90,
        ),
        Step(
            "kill-leader",
            Phase.INJECT,
            "SIGKILL the replica that holds the lease.",
            "Its process is gone.",
            10,
        ),
        Step(
            "detect-leader-lost",
            Phase.DETECT,
            "Watch the actuation record and scaleplane_leader: decisions stop being applied.",
            "No actuation since the fault while the lease is still held by the dead replica.",
            15,
        ),
        Step(
            "decide-standby-healthy",
            Phase.DECIDE,
            "Check that the standby is alive and reports scaleplane_leader 0: the takeover is its job, "
            "no manual lease deletion.",
            "The standby answers on /metrics.",
            10,
        ),
        Step(
            "await-takeover",
            Phase.ACT,
            "Let the lease expire; the standby takes it (a new fencing token) and actuates.",
            "An actuation by the standby, under a newer fencing token.",
            30,
        ),
        Step(
            "verify-actuations",
            Phase.VERIFY,
            "Read the whole actuation record back: every step of the load before the fault and after the "
            "takeover has exactly one actuation; none under a stale token.",
            "No decision missed, none applied twice.",
            30,
        ),
        Step(
            "rejoin-old-leader",
            Phase.FAIL_BACK,
            "Start the lost replica again: it finds the lease held and stays a standby.",
            "It reports scaleplane_leader 0 and the leader keeps actuating.",
            30,
        ),
    ),
    rollback=(
        Step(
            "stop-controllers",
            Phase.ROLLBACK,
            "Stop both replicas, Alertmanager, Prometheus and etcd; delete the drill's data.",
            "No process of the drill remains.",
            60,
        ),
    ),
    objectives=Objectives(rto_seconds=10, rpo_seconds=0, rpo_commits=0),
)
