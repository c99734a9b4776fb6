"""The SQL probes: a writer that commits a numbered sequence and a reader, each in its own thread,
recording every attempt with the drill's clock; and the data check after recovery.

The writer connects through the application's DSN (multi-host, `target_session_attrs=read-write`), so
finding the new primary is libpq's job, as in the application. Each number is tried once: after a
failure the next attempt uses the next number, so a COMMIT whose answer was lost can never be mistaken
for a later, acknowledged one. No `statement_timeout`: a commit waiting for a synchronous standby that
gets cancelled comes back *successful* with a warning (committed locally only), which would count an
unreplicated write as acknowledged.

Load is bounded: one write every `interval` seconds, one read every `interval` seconds, until `stop`.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any, Protocol

import psycopg

from scaleplane.drills import probes

TABLE = "scaleplane_drill_probe"


class Clock(Protocol):
    def now(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class SqlProbe:
    def __init__(
        self, write_dsn: str, read_dsn: str, clock: Clock, *, interval: float = 0.02, connect_timeout: int = 1
    ) -> None:
        self.write_dsn = write_dsn
        self.read_dsn = read_dsn
        self.clock = clock
        self.interval = interval
        self.connect_timeout = connect_timeout
        self._attempts: list[probes.Attempt] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._surviving: frozenset[int] = frozenset()
        self._checked = False

    def _connect(self, dsn: str) -> psycopg.Connection[Any]:
        return psycopg.connect(
            dsn, autocommit=True, connect_timeout=self.connect_timeout, application_name="scaleplane-drill"
        )

    def create_table(self) -> None:
        with self._connect(self.write_dsn) as conn:
            conn.execute(f"DROP TABLE IF EXISTS {TABLE}")
            conn.execute(
                f"CREATE TABLE {TABLE} (seq bigint PRIMARY KEY, at timestamptz DEFAULT clock_timestamp())"
            )

    def start(self) -> None:
        self._stop.clear()
        for name, loop in (("writer", self._write_loop), ("reader", self._read_loop)):
            thread = threading.Thread(target=loop, name=f"drill-probe-{name}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop both loops; a writer blocked in a commit is left to finish on its own (a daemon thread)."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout)
        self._threads = []

    def _record(self, attempt: probes.Attempt) -> None:
        with self._lock:
            self._attempts.append(attempt)

    def _loop(self, kind: str, dsn: str, sql: str, params: Any) -> None:
        conn: psycopg.Connection[Any] | None = None
        seq = 0
        try:
            while not self._stop.is_set():
                seq += 1
                started = self.clock.now()
                try:
                    if conn is None:
                        conn = self._connect(dsn)
                    row = conn.execute(sql, params(seq)).fetchone()
                    assert row is not None
                    value = seq if kind == "write" else row[0]
                    self._record(probes.Attempt(kind, started, self.clock.now(), True, value, str(row[1])))
                except (psycopg.Error, OSError) as error:
                    failed = probes.Attempt(
                        kind,
                        started,
                        self.clock.now(),
                        False,
                        seq if kind == "write" else None,
                        "",
                        _short(error),
                    )
                    self._record(failed)
                    if conn is not None:
                        with contextlib.suppress(Exception):
                            conn.close()
                    conn = None
                self.clock.sleep(self.interval)
        finally:
            if conn is not None:
                with contextlib.suppress(Exception):
                    conn.close()

    def _write_loop(self) -> None:
        sql = f"INSERT INTO {TABLE} (seq) VALUES (%s) RETURNING seq, inet_server_port()"
        self._loop("write", self.write_dsn, sql, lambda seq: (seq,))

    def _read_loop(self) -> None:
        sql = f"SELECT coalesce(max(seq), 0), inet_server_port() FROM {TABLE}"
        self._loop("read", self.read_dsn, sql, lambda _seq: ())

    def check(self) -> frozenset[int]:
        """Read every number back from the current primary (after recovery): the data check."""
        with self._connect(self.write_dsn) as conn:
            rows = conn.execute(f"SELECT seq FROM {TABLE}").fetchall()
        self._surviving = frozenset(int(row[0]) for row in rows)
        self._checked = True
        return self._surviving

    def log(self) -> probes.ProbeLog:
        with self._lock:
            attempts = tuple(self._attempts)
        return probes.ProbeLog(attempts, self._surviving, self._checked)

    def count(self, kind: str, *, ok: bool, since: float) -> int:
        with self._lock:
            return sum(a.kind == kind and a.ok == ok and a.started >= since for a in self._attempts)


def _short(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}"[:200]
