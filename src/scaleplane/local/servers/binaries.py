"""The Debian binaries the local platform runs, and the exact command that installs a missing one.

Nothing here installs anything: `scripts/bootstrap.sh` (root) does, and `scaleplane local doctor` reports.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

POSTGRES_VERSIONS = ("15", "16", "17", "14", "13")


class MissingBinaryError(RuntimeError):
    """A server binary is absent; the message carries the exact install command."""


@dataclass(frozen=True)
class Binary:
    name: str
    path: Path
    package: str


PROMETHEUS = Binary("prometheus", Path("/usr/bin/prometheus"), "prometheus")
PROMTOOL = Binary("promtool", Path("/usr/bin/promtool"), "prometheus")
REDIS = Binary("redis-server", Path("/usr/bin/redis-server"), "redis-server")
ALERTMANAGER = Binary(
    "prometheus-alertmanager", Path("/usr/bin/prometheus-alertmanager"), "prometheus-alertmanager"
)


def install_command(*packages: str) -> str:
    command = f"apt-get update && apt-get install -y {' '.join(sorted(set(packages)))}"
    return command if os.geteuid() == 0 else f"sudo sh -c '{command}'"


def is_installed(binary: Binary) -> bool:
    return binary.path.is_file() and os.access(binary.path, os.X_OK)


def require(binary: Binary) -> Path:
    if binary.path.is_file() and os.access(binary.path, os.X_OK):
        return binary.path
    raise MissingBinaryError(
        f"{binary.name} not found at {binary.path}: install it with `{install_command(binary.package)}`"
    )


def postgres_bin_dir(root: Path = Path("/usr/lib/postgresql")) -> Path:
    """The newest-supported PostgreSQL server binaries (15 first, the version the project is tested on)."""
    for version in POSTGRES_VERSIONS:
        candidate = root / version / "bin"
        if (candidate / "initdb").is_file():
            return candidate
    raise MissingBinaryError(
        f"PostgreSQL server binaries (initdb, postgres, pg_basebackup) not found under {root}: "
        f"install them with `{install_command('postgresql')}`"
    )


def require_postgres(bin_dir: Path) -> Path:
    for tool in ("initdb", "postgres", "pg_basebackup"):
        if not (bin_dir / tool).is_file():
            raise MissingBinaryError(
                f"{tool} not found in {bin_dir}: install PostgreSQL with `{install_command('postgresql')}`"
            )
    return bin_dir


def problems() -> list[str]:
    """Every missing binary, as messages with their install commands (for `scaleplane local doctor`)."""
    found: list[str] = []
    for binary in (PROMETHEUS, PROMTOOL, REDIS, ALERTMANAGER):
        try:
            require(binary)
        except MissingBinaryError as error:
            found.append(str(error))
    try:
        require_postgres(postgres_bin_dir())
    except MissingBinaryError as error:
        found.append(str(error))
    return found
