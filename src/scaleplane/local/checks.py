"""`scaleplane local doctor`: is this machine ready to run the local platform, and if not, what to run.

Each check returns a `Check` (name, ok, detail, fix). A missing binary's fix is the exact install
command; a leftover process's fix is `scaleplane local down`. Nothing here changes the machine except
a probe file in the state directory (created and removed).
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from scaleplane.local import runfiles
from scaleplane.local.ha import backups, etcd, patroni, sentinels
from scaleplane.local.servers import binaries, ports, postgres, stockexporters

PYTHON_MODULES = ("celery", "aiohttp", "psycopg", "psycopg_pool", "redis", "prometheus_client", "rich")


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""


def _version(argv: list[str]) -> str:
    try:
        result = subprocess.run(argv, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"cannot run: {exc}"
    return (
        (result.stdout or result.stderr).strip().splitlines()[0] if (result.stdout or result.stderr) else "?"
    )


SERVER_BINARIES = (binaries.PROMETHEUS, binaries.PROMTOOL, binaries.REDIS, binaries.ALERTMANAGER)
# What `--ha-database` and the drills on `--target local` start besides the platform's servers.
HA_BINARIES = (etcd.ETCD, patroni.PATRONI, sentinels.SENTINEL, backups.PGBACKREST)
VERSION_ARGS = {backups.PGBACKREST.name: ["version"]}  # pgbackrest refuses --version


def check_binaries(
    tools: tuple[binaries.Binary, ...] = SERVER_BINARIES, postgres_root: Path = Path("/usr/lib/postgresql")
) -> list[Check]:
    found = []
    for binary in tools:
        try:
            path = binaries.require(binary)
        except binaries.MissingBinaryError as exc:
            found.append(
                Check(binary.name, False, str(exc).split(":")[0], binaries.install_command(binary.package))
            )
        else:
            found.append(Check(binary.name, True, _version([str(path), "--version"])))
    try:
        bin_dir = binaries.require_postgres(binaries.postgres_bin_dir(postgres_root))
    except binaries.MissingBinaryError as exc:
        found.append(
            Check("postgresql", False, str(exc).split(":")[0], binaries.install_command("postgresql"))
        )
    else:
        found.append(
            Check("postgresql", True, f"{_version([str(bin_dir / 'postgres'), '--version'])} ({bin_dir})")
        )
    return found


def check_exporters(
    tools: tuple[binaries.Binary, ...] = (stockexporters.POSTGRES_EXPORTER, stockexporters.REDIS_EXPORTER),
) -> list[Check]:
    """Optional: without them the platform runs, and the Database and Cache dashboards stay empty."""
    return _optional(tools, "the Database and Cache dashboards get no data")


def check_high_availability(tools: tuple[binaries.Binary, ...] = HA_BINARIES) -> list[Check]:
    """Optional: the platform runs without them; `--ha-database` and the local drills do not."""
    return _optional(tools, "needed by --ha-database and drills on --target local")


def _optional(tools: tuple[binaries.Binary, ...], without: str) -> list[Check]:
    """Each binary's version when installed; absent, a passing check naming `without` and the install."""
    found = []
    for binary in tools:
        if binaries.is_installed(binary):
            version = _version([str(binary.path), *VERSION_ARGS.get(binary.name, ["--version"])])
            # redis_exporter prints its version as a log line: keep the message
            found.append(Check(binary.name, True, version.partition('msg="')[2].split("  ")[0] or version))
        else:
            detail = f"absent (optional): {without}"
            found.append(Check(binary.name, True, detail, binaries.install_command(binary.package)))
    return found


def check_python() -> Check:
    missing = [m for m in PYTHON_MODULES if importlib.util.find_spec(m) is None]
    if missing:
        return Check("python packages", False, f"missing: {', '.join(missing)}", "uv sync --frozen")
    return Check("python packages", True, ", ".join(PYTHON_MODULES))


def check_state_dir(state_dir: Path) -> list[Check]:
    found = []
    try:
        state_dir.mkdir(parents=True, exist_ok=True)
        probe = state_dir / f".doctor-{os.getpid()}"
        probe.write_text("ok")
        probe.unlink()
        found.append(Check("state directory", True, f"{state_dir.resolve()} is writable"))
    except OSError as exc:
        found.append(
            Check("state directory", False, f"{state_dir}: {exc}", "pass --state-dir DIR (a writable one)")
        )
        return found
    try:
        postgres.check_reachable(state_dir)
        found.append(Check("postgres user", True, "can reach the state directory"))
    except postgres.PostgresError as exc:
        found.append(
            Check("postgres user", False, str(exc), "pass --state-dir under /tmp or the project folder")
        )
    return found


def check_ports() -> Check:
    try:
        port = ports.free_port()
    except OSError as exc:
        return Check("free ports", False, f"cannot bind 127.0.0.1: {exc}", "check the loopback interface")
    return Check(
        "free ports", True, f"127.0.0.1 hands out free ports (e.g. {port}); every server picks its own"
    )


def check_leftovers(state_dir: Path) -> Check:
    live = runfiles.live_records(state_dir)
    supervisor = runfiles.supervisor(state_dir)
    if supervisor is not None:
        return Check("platform", True, f"running (controller pid {supervisor.pid}, {len(live)} processes)")
    if live:
        names = ", ".join(f"{r.name} ({r.pid})" for r in live[:6])
        return Check(
            "leftovers", False, f"processes of an earlier run still live: {names}", "scaleplane local down"
        )
    return Check("leftovers", True, "no process of an earlier run is left")


def run(state_dir: Path) -> list[Check]:
    return [
        *check_binaries(),
        *check_exporters(),
        *check_high_availability(),
        check_python(),
        *check_state_dir(state_dir),
        check_ports(),
        check_leftovers(state_dir),
    ]
