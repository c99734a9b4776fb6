"""The SQL probe's store: numbered writes to, and reads from, PostgreSQL through the application's DSN.

The writer connects through the application's DSN (multi-host, `target_session_attrs=read-write`), so
finding the new primary is libpq's job, as in the application. No `statement_timeout`: a commit waiting
for a synchronous standby that gets cancelled comes back *successful* with a warning (committed locally
only), which would count an unreplicated write as acknowledged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg

TABLE = "scaleplane_drill_probe"
ERRORS: tuple[type[BaseException], ...] = (psycopg.Error, OSError)


class SqlStore:
    """`write_dsn` may be a function: a restored server can come back at a new address (as an RDS
    point-in-time restore does), and the application is pointed at it."""

    errors = ERRORS

    def __init__(self, write_dsn: str | Callable[[], str], read_dsn: str, connect_timeout: int = 1) -> None:
        self._write_dsn = write_dsn
        self.read_dsn = read_dsn
        self.connect_timeout = connect_timeout

    @property
    def write_dsn(self) -> str:
        return self._write_dsn() if callable(self._write_dsn) else self._write_dsn

    def _connect(self, dsn: str) -> psycopg.Connection[Any]:
        return psycopg.connect(
            dsn, autocommit=True, connect_timeout=self.connect_timeout, application_name="scaleplane-drill"
        )

    def prepare(self) -> None:
        with self._connect(self.write_dsn) as conn:
            conn.execute(f"DROP TABLE IF EXISTS {TABLE}")
            conn.execute(
                f"CREATE TABLE {TABLE} (seq bigint PRIMARY KEY, at timestamptz DEFAULT clock_timestamp())"
            )

    def connect(self, kind: str) -> psycopg.Connection[Any]:
        return self._connect(self.write_dsn if kind == "write" else self.read_dsn)

    def write(self, handle: psycopg.Connection[Any], seq: int) -> str:
        row = handle.execute(
            f"INSERT INTO {TABLE} (seq) VALUES (%s) RETURNING inet_server_port()", (seq,)
        ).fetchone()
        return str(row[0]) if row else ""

    def read(self, handle: psycopg.Connection[Any]) -> tuple[int, str]:
        row = handle.execute(f"SELECT coalesce(max(seq), 0), inet_server_port() FROM {TABLE}").fetchone()
        assert row is not None
        return int(row[0]), str(row[1])

    def close(self, handle: psycopg.Connection[Any]) -> None:
        handle.close()

    def check(self) -> frozenset[int]:
        with self._connect(self.write_dsn) as conn:
            rows = conn.execute(f"SELECT seq FROM {TABLE}").fetchall()
        return frozenset(int(row[0]) for row in rows)
