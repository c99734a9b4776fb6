"""A real PostgreSQL server (primary or `pg_basebackup -R` replica) on 127.0.0.1.

As root, PostgreSQL refuses to run: every server command runs as the `postgres` user (the supervised
process switches user itself, so no `runuser` sits between us and the postmaster), and data directories
are owned by it. The postgres user must be able to traverse every parent of the data directory.

Settings come on the command line (`-c`), never from an edited postgresql.conf, so a replica copied from
the primary gets exactly its own port and name. Unix sockets are off: everything is TCP on 127.0.0.1, so
servers of different runs never meet in /var/run/postgresql. Stop is PostgreSQL's fast shutdown (SIGINT).
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import stat
import subprocess
from pathlib import Path
from typing import Any

import psycopg

from scaleplane.local.servers import binaries, ports, processes

OWNER = "postgres"
SUPERUSER = "postgres"
HBA = """\
# scaleplane local platform: 127.0.0.1 only, trust (a throwaway cluster on one machine)
host    all             all             127.0.0.1/32            trust
host    replication     all             127.0.0.1/32            trust
"""
PRIMARY_SETTINGS = {
    "listen_addresses": ports.HOST,
    "unix_socket_directories": "",
    "wal_level": "replica",
    "max_wal_senders": "16",
    "max_replication_slots": "16",
    "wal_keep_size": "128MB",
    "hot_standby": "on",
    # A replica's reads must not be cancelled by replayed vacuum: in-flight reads are a promise we keep.
    "hot_standby_feedback": "on",
    "max_connections": "100",
    "shared_buffers": "32MB",
    "logging_collector": "off",
}
# The demo's and the tests' databases (not the drills': Patroni members and the restore run durable).
# synchronous_commit off: a commit returns before its WAL is flushed, so a crash of PostgreSQL loses at
# most the last few hundred milliseconds of commits and never corrupts anything; the demo's jobs do not
# wait on the disk of a shared machine. fsync stays on: with it off, a machine crash can leave a data
# directory that the next `scaleplane demo` (which reuses it) cannot start from.
EPHEMERAL_SETTINGS = {"synchronous_commit": "off"}


class PostgresError(RuntimeError):
    """A PostgreSQL tool failed or a data directory cannot be used; the message says which and why."""


def _run_as() -> dict[str, Any]:
    return {"user": OWNER, "group": OWNER, "extra_groups": []} if os.geteuid() == 0 else {}


def _own(path: Path) -> None:
    """Make `path` a private directory of the server's user (as root: chown to postgres)."""
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        entry = pwd.getpwnam(OWNER)
        os.chown(path, entry.pw_uid, entry.pw_gid)
    path.chmod(0o700)


def check_reachable(path: Path) -> None:
    """As root, the postgres user must traverse every parent of `path` (e.g. pytest's 0700 tmp dirs fail)."""
    if os.geteuid() != 0:
        return
    try:
        owner_uid = pwd.getpwnam(OWNER).pw_uid
    except KeyError as error:
        raise PostgresError(
            f"there is no '{OWNER}' user to run PostgreSQL as root: install the server with "
            f"`{binaries.install_command('postgresql')}`"
        ) from error
    for parent in path.resolve().parents:
        info = parent.stat()
        if info.st_uid != owner_uid and not info.st_mode & stat.S_IXOTH:
            raise PostgresError(
                f"the {OWNER} user cannot reach {path}: {parent} has mode {stat.filemode(info.st_mode)}; "
                f"use a directory every user can traverse (e.g. under /tmp or the project folder)"
            )


def _tool(bin_dir: Path, argv: list[str], what: str, timeout: float = 120.0) -> None:
    result = subprocess.run(
        [str(bin_dir / argv[0]), *argv[1:]],
        capture_output=True,
        text=True,
        timeout=timeout,
        start_new_session=True,
        **_run_as(),
    )
    if result.returncode != 0:
        raise PostgresError(f"{what} failed (exit {result.returncode}): {result.stderr.strip()[-2000:]}")


class PostgresServer:
    def __init__(
        self,
        data_dir: Path,
        *,
        name: str = "postgres",
        port: int | None = None,
        bin_dir: Path | None = None,
        durable: bool = False,
        settings: dict[str, str] | None = None,
        run_dir: Path | None = None,
    ) -> None:
        self.data_dir = data_dir
        self.name = name
        self.requested_port = port
        self.port = port or 0
        self.bin_dir = bin_dir
        self.settings = {**PRIMARY_SETTINGS, **({} if durable else EPHEMERAL_SETTINGS), **(settings or {})}
        self.run_dir = run_dir or data_dir.parent
        self.process: processes.SupervisedProcess | None = None

    @property
    def dsn(self) -> str:
        return f"postgresql://{SUPERUSER}@{ports.HOST}:{self.port}/postgres"

    def dsn_for(self, database: str) -> str:
        return f"postgresql://{SUPERUSER}@{ports.HOST}:{self.port}/{database}"

    def _bin(self) -> Path:
        if self.bin_dir is None:
            self.bin_dir = binaries.postgres_bin_dir()
        return binaries.require_postgres(self.bin_dir)

    def initdb(self) -> PostgresServer:
        """Create the cluster unless the data directory already holds one (then it is reused)."""
        bin_dir = self._bin()
        check_reachable(self.data_dir)
        if not (self.data_dir / "PG_VERSION").exists():
            _own(self.data_dir)
            _tool(
                bin_dir,
                [
                    "initdb",
                    "-D",
                    str(self.data_dir),
                    "-U",
                    SUPERUSER,
                    "--auth=trust",
                    "--no-sync",
                    "-E",
                    "UTF8",
                ],
                f"initdb of {self.data_dir}",
            )
        (self.data_dir / "pg_hba.conf").write_text(HBA)
        return self

    def create_replica(
        self,
        data_dir: Path,
        *,
        name: str | None = None,
        port: int | None = None,
        start: bool = True,
        run_dir: Path | None = None,
    ) -> PostgresServer:
        """A streaming replica of this (running) server: `pg_basebackup -R` into `data_dir`, then start."""
        bin_dir = self._bin()
        check_reachable(data_dir)
        if data_dir.exists():
            shutil.rmtree(data_dir)
        _own(data_dir)
        replica = PostgresServer(
            data_dir,
            name=name or data_dir.name,
            port=port,
            bin_dir=bin_dir,
            settings=dict(self.settings),
            run_dir=run_dir or self.run_dir,
        )
        _tool(
            bin_dir,
            [
                "pg_basebackup",
                "-h",
                ports.HOST,
                "-p",
                str(self.port),
                "-U",
                SUPERUSER,
                "-D",
                str(data_dir),
                "-R",
                "-X",
                "stream",
                "--checkpoint=fast",
                "--no-sync",
            ],
            f"pg_basebackup from {self.name} (port {self.port}) into {data_dir}",
        )
        if start:
            replica.start()
        return replica

    def start(self, timeout: float = 60.0) -> PostgresServer:
        bin_dir = self._bin()
        if not (self.data_dir / "PG_VERSION").exists():
            self.initdb()

        def launch(port: int) -> None:
            self.port = port
            settings = {**self.settings, "port": str(port), "cluster_name": self.name}
            argv: list[str | Path] = [bin_dir / "postgres", "-D", self.data_dir]
            for key, value in settings.items():
                argv += ["-c", f"{key}={value}"]
            self.process = processes.SupervisedProcess(
                self.name,
                argv,
                run_dir=self.run_dir,
                user=OWNER,
                stop_signal=signal.SIGINT,  # fast shutdown: smart (SIGTERM) waits for idle clients forever
                stop_timeout=20.0,
            )
            self.process.start()
            try:
                self.process.wait_ready(self.accepts_connections, timeout, "accepting connections")
            except processes.ProcessFailed:
                self.process.stop()
                raise

        ports.launch_on_port(self.name, self.requested_port, launch, processes.failure_log)
        return self

    def accepts_connections(self) -> bool:
        with psycopg.connect(self.dsn, connect_timeout=2, autocommit=True) as conn:
            conn.execute("SELECT 1")
        return True

    def connect(self, database: str = "postgres", **kwargs: Any) -> psycopg.Connection[Any]:
        return psycopg.connect(self.dsn_for(database), autocommit=True, connect_timeout=5, **kwargs)

    def fetch_one(self, sql: str, params: tuple[Any, ...] = ()) -> Any:
        """The first column of the first row (None if no row, or a statement without rows)."""
        with self.connect() as conn:
            cursor = conn.execute(sql, params)
            row = cursor.fetchone() if cursor.description is not None else None
        return row[0] if row else None

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()

    def destroy(self) -> None:
        """Stop and delete the data directory."""
        self.stop()
        shutil.rmtree(self.data_dir, ignore_errors=True)

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()
