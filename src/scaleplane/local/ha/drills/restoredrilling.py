"""The local backend's restore-to-point-in-time steps: PostgreSQL archiving to pgBackRest, a full backup,
the probe writing, an operator's mistake (DROP TABLE), and a restore to just before it.

A part of `drilling.LocalBackend` (its clock, probe, state directory and watchdog); one method per step
id of `scaleplane.drills.engine.scenarios.RESTORE_TO_POINT_IN_TIME`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from scaleplane.drills.engine import backends
from scaleplane.drills.probing import databases, loops
from scaleplane.local import runfiles
from scaleplane.local.ha import backups
from scaleplane.local.servers import ports, postgres

if TYPE_CHECKING:
    from scaleplane.local.ha.drills.drilling import LocalBackend

COMMANDS = {
    "start-archiving-database": [
        "pgbackrest --config=servers/pitr/pgbackrest.conf --stanza=scaleplane stanza-create"
    ],
    "take-full-backup": [
        "pgbackrest --config=servers/pitr/pgbackrest.conf --stanza=scaleplane --type=full backup"
    ],
    "drop-table-by-mistake": [
        "psql -c 'BEGIN; SELECT txid_current(); DROP TABLE scaleplane_drill_probe; COMMIT'"
    ],
    "detect-data-missing": [
        "psql -c 'SELECT count(*) FROM scaleplane_drill_probe'   # relation does not exist"
    ],
    "decide-restore-target": [
        "pg_waldump servers/pitr/data/pg_wal/SEGMENT | grep -i 'DROP\\|COMMIT'   # its xid"
    ],
    "restore-before-mistake": [
        "psql -c 'SELECT pg_switch_wal()'   # the last WAL to the archive first",
        "pg_ctl stop -m fast -D servers/pitr/data",
        "pgbackrest --config=servers/pitr/pgbackrest.conf --stanza=scaleplane --delta --type=xid "
        "--target=XID --target-exclusive --target-action=promote restore",
        "pg_ctl start -D servers/pitr/data",
    ],
    "verify-writes-resume": ["psql -c 'INSERT INTO scaleplane_drill_probe (seq) VALUES (...)'"],
    "verify-acknowledged-commits": ["psql -c 'SELECT count(*) FROM scaleplane_drill_probe'"],
    "take-backup-after-restore": [
        "pgbackrest --config=servers/pitr/pgbackrest.conf --stanza=scaleplane --type=full backup"
    ],
    "stop-archiving-database": ["scaleplane drill recover   # also ends what a killed drill left"],
}


class RestoreSteps:
    def __init__(self, backend: LocalBackend) -> None:
        self.backend = backend
        self.server: postgres.PostgresServer | None = None
        self.repo: backups.Repository | None = None
        self.xid: str | None = None

    def actions(self) -> dict[str, Callable[[float], backends.Outcome]]:
        return {
            "start-archiving-database": self._start,
            "take-full-backup": self._backup,
            "start-write-probe": self._start_probe,
            "drop-table-by-mistake": self._drop,
            "detect-data-missing": self._detect,
            "decide-restore-target": self._decide,
            "restore-before-mistake": self._restore,
            "take-backup-after-restore": self._backup,
            "stop-archiving-database": self.backend.stop_everything,
        }

    def _parts(self) -> tuple[postgres.PostgresServer, backups.Repository]:
        assert self.server is not None and self.repo is not None, "start-archiving-database did not run"
        return self.server, self.repo

    def _start(self, timeout: float) -> backends.Outcome:
        self.backend.claim()
        home = runfiles.servers_dir(self.backend.state_dir) / "pitr"
        postgres.check_reachable(home.parent)
        self.repo = backups.Repository(home)
        port = ports.free_port()
        self.server = postgres.PostgresServer(
            home / "data", name="pitr-postgres", port=port, durable=True,
            settings=self.repo.archive_settings(), run_dir=runfiles.servers_dir(self.backend.state_dir),
        )  # fmt: skip
        self.repo.write_config(self.server.data_dir, port)
        self.server.start(timeout=timeout)
        # pgBackRest connects through the Unix socket only: let it in (the platform's HBA is TCP-only).
        with (self.server.data_dir / "pg_hba.conf").open("a") as hba:
            hba.write("local   all             postgres                                trust\n")
        self.server.fetch_one("SELECT pg_reload_conf()")
        self.repo.create_stanza()
        return backends.Outcome(True, f"PostgreSQL on port {port} archiving WAL to pgBackRest")

    def _backup(self, timeout: float) -> backends.Outcome:
        _, repo = self._parts()
        repo.backup()
        return backends.Outcome(True, f"full backup taken ({repo.backups()} in the repository)")

    def _start_probe(self, timeout: float) -> backends.Outcome:
        server, _ = self._parts()
        # Writes only: a restore takes the one server away, so there is no reader to measure apart.
        store = databases.SqlStore(lambda: server.dsn, server.dsn)
        return self.backend.start_probe(loops.Probe(store, self.backend.clock), timeout, reads=False)

    def _drop(self, timeout: float) -> backends.Outcome:
        server, _ = self._parts()
        with server.connect() as conn, conn.transaction():
            self.xid = str(conn.execute("SELECT txid_current()").fetchone()[0])  # type: ignore[index]
            conn.execute(f"DROP TABLE {databases.TABLE}")
        self.backend.fault_at = self.backend.clock.now()
        return backends.Outcome(True, f"DROP TABLE committed in transaction {self.xid}",
                                {"fault": self.backend.fault_at})  # fmt: skip

    def _detect(self, timeout: float) -> backends.Outcome:
        probe, since = self.backend.probe, self.backend.fault_at
        assert probe is not None and since is not None
        ok = self.backend.until(lambda: probe.count("write", ok=False, since=since) > 0, timeout)
        return backends.Outcome(
            bool(ok), "writes fail: the table does not exist", {"detected": self.backend.clock.now()}
        )

    def _decide(self, timeout: float) -> backends.Outcome:
        return backends.Outcome(
            self.xid is not None, f"restore to just before transaction {self.xid} (exclusive)"
        )

    def _restore(self, timeout: float) -> backends.Outcome:
        server, repo = self._parts()
        assert self.xid is not None
        with server.connect() as conn:
            conn.execute("SELECT pg_switch_wal()")
        # The segment holding the DROP must be in the archive before the server stops.
        repo.run("check")
        server.stop()
        repo.restore_before_xid(self.xid)
        # It comes back at a new address, as a cloud restore does (and TIME_WAIT holds the old port).
        server.requested_port = None
        server.start(timeout=timeout)
        repo.write_config(server.data_dir, server.port)
        ok = self.backend.until(lambda: server.fetch_one("SELECT NOT pg_is_in_recovery()"), timeout)
        rows = server.fetch_one(f"SELECT count(*) FROM {databases.TABLE}") if ok else None
        return backends.Outcome(bool(ok), f"restored and promoted: {rows} probe rows back",
                                {"restored": self.backend.clock.now()})  # fmt: skip
