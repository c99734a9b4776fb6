"""The restore scenario: undo a committed mistake from backups and archived WAL."""

from __future__ import annotations

from scaleplane.drills.engine.steps import Objectives, Phase, Scenario, Step

RESTORE_TO_POINT_IN_TIME = Scenario(
    name="restore-to-point-in-time",
    summary="An operator's mistake (DROP TABLE) is undone by a pgBackRest restore to just before its "
    "transaction; every commit acknowledged before the mistake must come back.",
    steps=(
        Step(
            "start-archiving-database",
            Phase.PREPARE,
            "Start PostgreSQL archiving every WAL segment to a pgBackRest repository (stanza-create, check).",
            "pgBackRest's check passes: WAL reaches the archive.",
            60,
        ),
        Step(
            "take-full-backup",
            Phase.PREPARE,
            "Take a full backup with pgBackRest.",
            "The repository holds a full backup.",
            120,
        ),
        Step(
            "start-write-probe",
            Phase.PREPARE,
            "Start the probe writer (numbered commits).",
            "Writes are acknowledged.",
            30,
        ),
        Step(
            "drop-table-by-mistake",
            Phase.INJECT,
            "DROP TABLE of the probe's table, committed (note its transaction id).",
            "The DROP is committed.",
            10,
        ),
        Step(
            "detect-data-missing",
            Phase.DETECT,
            "Watch the writer.",
            "Writes fail: the relation does not exist.",
            15,
        ),
        Step(
            "decide-restore-target",
            Phase.DECIDE,
            "Choose the target: just before the mistaken transaction (by xid, exclusive), not a time: "
            "a time loses the commits between it and the mistake.",
            "A transaction id to restore before.",
            10,
        ),
        Step(
            "restore-before-mistake",
            Phase.ACT,
            "Archive the current WAL, stop PostgreSQL, pgbackrest restore --delta --type=xid "
            "--target-exclusive --target-action=promote, start it: it replays the archive and promotes.",
            "The server is out of recovery and the table is back.",
            300,
        ),
        Step(
            "verify-writes-resume",
            Phase.VERIFY,
            "Watch the probe writer (it reconnects by itself).",
            "A write started after the fault is acknowledged.",
            60,
        ),
        Step(
            "verify-acknowledged-commits",
            Phase.VERIFY,
            "Stop the probe and read every number back.",
            "The data check ran; commits acknowledged before the mistake and missing count against RPO.",
            30,
        ),
        Step(
            "take-backup-after-restore",
            Phase.FAIL_BACK,
            "Take a new full backup: the restore started a new timeline, the old backups lead to the past.",
            "The repository holds the new backup.",
            120,
        ),
    ),
    rollback=(
        Step(
            "stop-archiving-database",
            Phase.ROLLBACK,
            "Stop PostgreSQL; delete the drill's data and repository.",
            "No process of the drill remains.",
            60,
        ),
    ),
    objectives=Objectives(rto_seconds=120, rpo_seconds=0, rpo_commits=0),
)
