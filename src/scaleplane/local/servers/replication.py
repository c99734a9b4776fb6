"""What PostgreSQL says about replication and load: streaming state, replay lag, reads, clients.

Every helper opens a short connection as `PLATFORM_APPLICATION` and closes it, so the platform's own
look-ups never hold a replica up during a drain (which waits for other clients to leave).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg

PLATFORM_APPLICATION = "scaleplane-platform"


def _connect(dsn: str) -> psycopg.Connection[Any]:
    return psycopg.connect(dsn, autocommit=True, connect_timeout=2, application_name=PLATFORM_APPLICATION)


def _one(dsn: str, sql: str, params: tuple[Any, ...] = ()) -> Any:
    with _connect(dsn) as conn:
        row = conn.execute(sql, params).fetchone()
    return row[0] if row else None


def receiver_status(replica_dsn: str) -> str | None:
    """The replica's WAL receiver state ('streaming' once it follows the primary), None if none runs."""
    status: str | None = _one(replica_dsn, "SELECT status FROM pg_stat_wal_receiver")
    return status


def replay_lag_bytes(primary_dsn: str, replica_dsn: str) -> int:
    """How far the replica's replay is behind the primary's current WAL position, in bytes."""
    lsn = _one(primary_dsn, "SELECT pg_current_wal_lsn()::text")
    lag = _one(replica_dsn, "SELECT pg_wal_lsn_diff(%s::pg_lsn, pg_last_wal_replay_lsn())", (lsn,))
    return max(0, int(lag)) if lag is not None else 2**62


def other_clients(dsn: str) -> int:
    """Client connections other than the platform's own (and Patroni's): what a drain waits for."""
    count: int = _one(
        dsn,
        "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' "
        "AND pid <> pg_backend_pid() AND application_name NOT LIKE 'scaleplane-platform%%' "
        "AND application_name NOT LIKE 'scaleplane-exporter%%' "
        "AND application_name NOT LIKE 'Patroni%%'",  # a Patroni member's own connection to its server
    )
    return count


@dataclass(frozen=True)
class Standby:
    name: str  # the replica's cluster_name, which its WAL receiver uses as application_name
    state: str
    lag_bytes: float
    replay_lag_seconds: float


def standbys(primary_dsn: str) -> list[Standby]:
    """The primary's view of its replicas (pg_stat_replication)."""
    with _connect(primary_dsn) as conn:
        rows = conn.execute(
            "SELECT application_name, state, "
            "coalesce(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn), 0)::float8, "
            "coalesce(extract(epoch FROM replay_lag), 0)::float8 FROM pg_stat_replication"
        ).fetchall()
    return [Standby(str(r[0]), str(r[1]), float(r[2]), float(r[3])) for r in rows]


@dataclass(frozen=True)
class ReadLoad:
    transactions: float  # xact_commit + xact_rollback of the database (a counter: rate() it)
    tuples_returned: float  # a counter
    active_queries: int  # client queries running now (not counting this look-up)
    connections: int


def read_load(dsn: str, database: str) -> ReadLoad:
    with _connect(dsn) as conn:
        stats = conn.execute(
            "SELECT (xact_commit + xact_rollback)::float8, tup_returned::float8 FROM pg_stat_database "
            "WHERE datname = %s",
            (database,),
        ).fetchone()
        activity = conn.execute(
            "SELECT count(*) FILTER (WHERE state = 'active'), count(*) FROM pg_stat_activity "
            "WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()"
        ).fetchone()
    transactions, tuples = stats if stats else (0.0, 0.0)
    active, connections = activity if activity else (0, 0)
    return ReadLoad(float(transactions), float(tuples), int(active), int(connections))
