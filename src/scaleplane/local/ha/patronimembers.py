"""The members of a local Patroni cluster: their ports and paths, and the Patroni configuration each runs.

Timings: `loop_wait` 1 s, `retry_timeout` 3 s and a leader `ttl` of 10 s (Patroni's rule: loop_wait +
2 x retry_timeout <= ttl). HBA is trust on 127.0.0.1 only (a throwaway cluster on one machine); Unix
sockets are off, as for every local server; `pg_rewind` is on (with `wal_log_hints`) so a failed
primary can rejoin.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import requests

from scaleplane.local.servers import ports, postgres, processes

SCOPE = "scaleplane"


@dataclass(frozen=True)
class Timings:
    ttl: int = 10
    loop_wait: int = 1
    retry_timeout: int = 3


@dataclass
class Member:
    name: str
    home: Path
    pg_port: int
    api_port: int
    process: processes.SupervisedProcess | None = field(default=None, repr=False)

    @property
    def data_dir(self) -> Path:
        return self.home / "data"

    @property
    def api(self) -> str:
        return f"http://{ports.HOST}:{self.api_port}"

    @property
    def dsn(self) -> str:
        return f"postgresql://{postgres.SUPERUSER}@{ports.HOST}:{self.pg_port}/postgres"

    @property
    def postmaster_pid_file(self) -> Path:
        return self.home.parent / f"{self.name}-postmaster.pid"

    def status(self) -> dict[str, Any]:
        """Patroni's own view of this member (GET /patroni): role, state, timeline; raises if down."""
        response = requests.get(f"{self.api}/patroni", timeout=1)
        data: dict[str, Any] = response.json()
        return data


def member_config(
    member: Member, etcd_url: str, bin_dir: Path, timings: Timings, sync: bool
) -> dict[str, Any]:
    hba = ["host all all 127.0.0.1/32 trust", "host replication all 127.0.0.1/32 trust"]
    return {
        "scope": SCOPE,
        "name": member.name,
        "log": {"level": "INFO"},
        "restapi": {
            "listen": f"{ports.HOST}:{member.api_port}",
            "connect_address": f"{ports.HOST}:{member.api_port}",
        },
        "etcd3": {"hosts": [etcd_url.removeprefix("http://")]},
        "watchdog": {"mode": "off"},
        "bootstrap": {
            "dcs": {
                **asdict(timings),
                "maximum_lag_on_failover": 1048576,
                "synchronous_mode": sync,
                "postgresql": {
                    "use_pg_rewind": True,
                    "use_slots": True,
                    "parameters": {
                        "wal_level": "replica",
                        "wal_log_hints": "on",  # pg_rewind of a failed primary needs it
                        "hot_standby": "on",
                        "max_wal_senders": 10,
                        "max_replication_slots": 10,
                        "wal_keep_size": "128MB",
                        "max_connections": 60,
                    },
                },
            },
            "initdb": [{"encoding": "UTF8"}, {"auth": "trust"}],
        },
        "postgresql": {
            "listen": f"{ports.HOST}:{member.pg_port}",
            "connect_address": f"{ports.HOST}:{member.pg_port}",
            "data_dir": str(member.data_dir),
            "bin_dir": str(bin_dir),
            "pgpass": str(member.home / "pgpass"),
            "authentication": {
                "superuser": {"username": postgres.SUPERUSER},
                "replication": {"username": postgres.SUPERUSER},
                "rewind": {"username": postgres.SUPERUSER},
            },
            "parameters": {"unix_socket_directories": "", "shared_buffers": "32MB"},
            "pg_hba": hba,
            "remove_data_directory_on_rewind_failure": True,
            "remove_data_directory_on_diverged_timelines": True,
        },
    }
