"""The scenario catalog: each one a drill definition (in `failovers` and `restores`), with a runbook of
the same name in runbooks/."""

from __future__ import annotations

from scaleplane.drills.engine import failovers, leaderlosses, restores
from scaleplane.drills.engine.steps import Scenario

DB_PRIMARY_LOSS = failovers.DB_PRIMARY_LOSS
DB_REPLICA_LOSS = failovers.DB_REPLICA_LOSS
CACHE_PRIMARY_LOSS = failovers.CACHE_PRIMARY_LOSS
RESTORE_TO_POINT_IN_TIME = restores.RESTORE_TO_POINT_IN_TIME
OPERATOR_LEADER_LOSS = leaderlosses.OPERATOR_LEADER_LOSS

SCENARIOS = {
    s.name: s
    for s in (
        DB_PRIMARY_LOSS,
        DB_REPLICA_LOSS,
        CACHE_PRIMARY_LOSS,
        RESTORE_TO_POINT_IN_TIME,
        OPERATOR_LEADER_LOSS,
    )
}


def get(name: str) -> Scenario:
    try:
        return SCENARIOS[name]
    except KeyError:
        raise KeyError(f"unknown scenario {name!r} (known: {', '.join(SCENARIOS)})") from None
