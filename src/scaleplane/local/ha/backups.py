"""Backups and point-in-time restore with pgBackRest (the Debian `pgbackrest`) of a local PostgreSQL.

The server archives every WAL segment with `pgbackrest archive-push`; `backup` takes a full backup,
`restore` brings the data directory back to a target (here: just before a transaction, by its xid) and
PostgreSQL replays the archived WAL up to it, then promotes. pgBackRest reaches PostgreSQL through a Unix
socket only, so this server has one, in a directory of its own (never /var/run/postgresql, which other
servers of the machine use). Every pgBackRest command runs as the postgres user.
"""

from __future__ import annotations

import json
import os
import pwd
import subprocess
from pathlib import Path
from typing import Any

from scaleplane.local.servers import binaries, postgres

PGBACKREST = binaries.Binary("pgbackrest", Path("/usr/bin/pgbackrest"), "pgbackrest")
STANZA = "scaleplane"


def _own(path: Path) -> None:
    """A directory of the postgres user's (pgBackRest runs as it), private."""
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        entry = pwd.getpwnam(postgres.OWNER)
        os.chown(path, entry.pw_uid, entry.pw_gid)
    path.chmod(0o700)


class BackupError(RuntimeError):
    """A pgBackRest command failed; the message carries its output."""


class Repository:
    """A pgBackRest repository and stanza for one server, all under `home`."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.config = home / "pgbackrest.conf"
        self.socket_dir = home / "socket"

    def write_config(self, data_dir: Path, port: int) -> None:
        for path in (self.home, self.socket_dir, self.home / "repo", self.home / "log", self.home / "lock"):
            _own(path)
        self.config.write_text(
            "[global]\n"
            f"repo1-path={self.home / 'repo'}\nlog-path={self.home / 'log'}\nlock-path={self.home / 'lock'}\n"
            "start-fast=y\ncompress-type=none\nlog-level-console=warn\nrepo1-retention-full=2\n"
            f"[{STANZA}]\npg1-path={data_dir}\npg1-port={port}\npg1-socket-path={self.socket_dir}\n"
        )
        self.config.chmod(0o644)

    def archive_settings(self) -> dict[str, str]:
        binaries.require(PGBACKREST)
        return {
            "archive_mode": "on",
            "archive_command": f"{PGBACKREST.path} --config={self.config} --stanza={STANZA} archive-push %p",
            "unix_socket_directories": str(self.socket_dir),
            "wal_level": "replica",
        }

    def run(self, *args: str, timeout: float = 120.0) -> str:
        """`pgbackrest --config=... --stanza=... ARGS` as the postgres user; raises BackupError on failure."""
        argv = [str(binaries.require(PGBACKREST)), f"--config={self.config}", f"--stanza={STANZA}", *args]
        extra: dict[str, Any] = {}
        if os.geteuid() == 0:
            extra = {"user": postgres.OWNER, "group": postgres.OWNER, "extra_groups": []}
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, cwd=self.home, **extra)
        if done.returncode != 0:
            tail = (done.stdout + done.stderr).strip()[-2000:]
            raise BackupError(f"pgbackrest {' '.join(args)} failed (exit {done.returncode}): {tail}")
        output: str = done.stdout
        return output

    def create_stanza(self) -> None:
        self.run("stanza-create")
        self.run("check")

    def backup(self) -> None:
        self.run("--type=full", "backup")

    def restore_before_xid(self, xid: str) -> None:
        """Restore (delta) to just before transaction `xid` commits, then let PostgreSQL promote."""
        self.run("--delta", "--type=xid", f"--target={xid}", "--target-exclusive", "--target-action=promote",
                 "restore")  # fmt: skip

    def backups(self) -> int:
        info = json.loads(self.run("--output=json", "info"))
        return sum(len(stanza.get("backup", [])) for stanza in info)
