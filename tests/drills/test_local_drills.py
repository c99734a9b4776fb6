"""Drills on real servers: etcd, three PostgreSQL members under Patroni (synchronous_mode), the probes
through a multi-host DSN. Patroni does the failover; the drill measures it, and leaves no process."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from scaleplane.drills.engine import running, scenarios
from scaleplane.drills.probing import clocks
from scaleplane.local.ha.drills import drillfiles, drilling
from scaleplane.local.servers import processes
from tests.support import waiting

pytestmark = [pytest.mark.servers, pytest.mark.slow]
SCALEPLANE = [sys.executable, "-c", "from scaleplane.cli import main; main()"]


def processes_under(path: Path) -> list[str]:
    """Live processes whose command line or working directory is under `path`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            cwd = os.readlink(entry / "cwd")
        except OSError:
            continue
        inside = str(path) in argv or cwd.startswith(str(path))  # Redis retitles itself: its cwd tells
        if inside and processes.start_ticks(int(entry.name)) is not None:
            found.append(f"{entry.name}: {argv[:120]}")
    return found


@pytest.fixture
def drill_dir(servers_dir: Path) -> Iterator[Path]:
    path = servers_dir / f"drill-{os.urandom(3).hex()}"
    path.mkdir()
    path.chmod(0o755)
    try:
        yield path
    finally:
        drillfiles.recover(path / "state")  # whatever a failed test left


def test_primary_loss_through_the_cli_promotes_the_sync_standby_with_rpo_zero(drill_dir: Path) -> None:
    argv = [*SCALEPLANE, "drill", "run", "db-primary-loss", "--target", "local", "--execute", "--json",
            "--state-dir", str(drill_dir / "state"), "--reports-dir", str(drill_dir / "reports")]  # fmt: skip
    done = subprocess.run(argv, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    data = json.loads(done.stdout)
    assert (data["scenario"], data["target"], data["executed"], data["verdict"]) == (
        "db-primary-loss", "local", True, "PolicyMet",
    )  # fmt: skip
    assert data["rpo_commits_lost"] == 0 and data["rpo_seconds"] == 0
    # a real hard loss: Patroni waits for the dead leader's lease (ttl 10 s) before it promotes
    assert 2 < data["rto_seconds"] < data["objectives"]["rto_seconds"] == 30
    steps = {s["id"]: s for s in data["steps"]}
    assert re.fullmatch(
        r"(pg\d) promoted \(sync standby before the fault: \1\)", steps["await-promotion"]["observed"]
    )
    assert all(s["ok"] for s in data["steps"])
    assert (
        data["data_check"]["writes_acknowledged"] >= 45
        and data["data_check"]["acknowledged_commits_lost"] == []
    )
    for kind in ("markdown", "json", "timeline"):
        assert Path(data["report"][kind]).stat().st_size > 0
    history = (drill_dir / "reports" / "history.jsonl").read_text().splitlines()
    assert json.loads(history[-1])["verdict"] == "PolicyMet"
    assert "| RPO: acknowledged commits lost | 0 | 0 | met |" in Path(data["report"]["markdown"]).read_text()
    # Detection: Patroni's own /metrics scraped by a real Prometheus with the project's rules (holds
    # scaled as in the demo: 1 min -> 1 s), the notification through a real Alertmanager to the webhook.
    # The leader's series goes stale at the next failed scrape, so the alert fires before the promotion.
    (alert,) = data["alerts"]
    assert alert["alert"] == "ScaleplaneDatabaseNoPrimary"
    assert 0 < alert["pending_seconds"] < alert["fired_seconds"] == data["detection_seconds"]
    assert data["detection_seconds"] < data["rto_seconds"]
    marks = {"pending: ScaleplaneDatabaseNoPrimary", "alert: ScaleplaneDatabaseNoPrimary"}
    assert marks <= set(data["timeline"])
    assert processes_under(drill_dir) == []


def test_replica_loss_keeps_the_primary_and_names_a_new_sync_standby(drill_dir: Path) -> None:
    backend = drilling.LocalBackend(scenario="db-replica-loss", state_dir=drill_dir / "state")
    result = running.run(scenarios.DB_REPLICA_LOSS, backend, clocks.WallClock(), execute=True)
    observed = {r.step.id: r.observed for r in result.results}
    assert result.verdict == "PolicyMet", (result.breaches, observed)
    assert observed["decide-keep-primary"] == "leader is pg1"
    survivor = ({"pg2", "pg3"} - {backend.victim}).pop()
    assert observed["await-new-sync-standby"] == f"new synchronous standby: {survivor}"
    m = result.measurement
    assert m is not None and m.rpo_commits_lost == 0 and m.rto_seconds is not None
    assert m.rto_seconds < scenarios.DB_REPLICA_LOSS.objectives.rto_seconds
    assert processes_under(drill_dir) == []


def test_a_drill_killed_half_way_is_cleaned_up_by_recover(drill_dir: Path) -> None:
    state = drill_dir / "state"
    argv = [*SCALEPLANE, "drill", "run", "db-primary-loss", "--execute", "--state-dir", str(state),
            "--reports-dir", str(drill_dir / "reports")]  # fmt: skip
    log = (drill_dir / "drill.log").open("w")
    proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        assert waiting.until(lambda: "start-probes: ok" in (drill_dir / "drill.log").read_text(), 120)
        # The drill and its watchdog die together (a power cut of the controller): only PID records remain.
        watchdog = processes.read_record(state / "servers" / "watchdog.pid")
        assert watchdog is not None
        os.kill(watchdog.pid, signal.SIGKILL)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        left = processes_under(drill_dir)
        assert any("patroni" in p for p in left) and any("-D" in p for p in left), left
    finally:
        if proc.poll() is None:
            proc.kill()
        log.close()
    again = subprocess.run([*SCALEPLANE, "drill", "run", "db-primary-loss", "--execute", "--state-dir",
                            str(state), "--reports-dir", str(drill_dir / "reports")],
                           capture_output=True, text=True, timeout=60)  # fmt: skip
    assert again.returncode == 2 and again.stderr.startswith("error: a killed drill left processes behind")
    assert "run `scaleplane drill recover`" in again.stderr
    done = subprocess.run([*SCALEPLANE, "drill", "recover", "--state-dir", str(state)],
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "etcd (" in done.stdout and "-postmaster (" in done.stdout, done.stdout
    assert waiting.until(lambda: processes_under(drill_dir) == [], 10), processes_under(drill_dir)
    assert not (state / "servers").exists()
    assert (state / "logs" / "etcd.log").stat().st_size > 0  # what the killed drill's servers said is kept


def test_cache_primary_loss_is_a_sentinel_failover_with_no_replicated_write_lost(drill_dir: Path) -> None:
    backend = drilling.LocalBackend(scenario="cache-primary-loss", state_dir=drill_dir / "state")
    result = running.run(scenarios.CACHE_PRIMARY_LOSS, backend, clocks.WallClock(), execute=True)
    observed = {r.step.id: r.observed for r in result.results}
    assert result.verdict == "PolicyMet", (result.breaches, observed)
    assert re.fullmatch(r"redis[23] promoted by the sentinels", observed["await-sentinel-failover"])
    assert re.fullmatch(r"redis1 is a replica of redis[23] again", observed["rejoin-old-cache-primary"])
    m = result.measurement
    assert m is not None and m.rpo_commits_lost == 0 and m.writes_acknowledged >= 45
    # Sentinel's down-after-milliseconds is 1 s: a failover faster than that was not one
    assert m.rto_seconds is not None and 1.0 < m.rto_seconds < 10
    assert processes_under(drill_dir) == []


def test_restore_to_point_in_time_brings_back_every_commit_before_the_mistake(drill_dir: Path) -> None:
    backend = drilling.LocalBackend(scenario="restore-to-point-in-time", state_dir=drill_dir / "state")
    result = running.run(scenarios.RESTORE_TO_POINT_IN_TIME, backend, clocks.WallClock(), execute=True)
    observed = {r.step.id: r.observed for r in result.results}
    assert result.verdict == "PolicyMet", (result.breaches, observed)
    m = result.measurement
    assert m is not None and m.rpo_commits_lost == 0 and m.rto_seconds is not None
    log = result.probe_log
    before = [a.seq for a in log.acknowledged() if result.fault_at and a.finished < result.fault_at]
    after = [a.seq for a in log.acknowledged() if result.fault_at and a.started > result.fault_at]
    assert len(before) >= 20 and set(before) <= log.surviving, "every commit before the DROP came back"
    assert after and set(after) <= log.surviving, "and the restored server takes writes"
    assert observed["take-backup-after-restore"] == "full backup taken (2 in the repository)"
    assert processes_under(drill_dir) == []


def test_a_drill_killed_half_way_leaves_no_process_its_watchdog_ends_them(drill_dir: Path) -> None:
    state = drill_dir / "state"
    argv = [*SCALEPLANE, "drill", "run", "cache-primary-loss", "--execute", "--state-dir", str(state),
            "--reports-dir", str(drill_dir / "reports")]  # fmt: skip
    log_path = drill_dir / "drill.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            assert waiting.until(lambda: "start-cache-probes: ok" in log_path.read_text(), 90), (
                log_path.read_text()
            )
            assert len(processes_under(drill_dir)) >= 7  # 3 Redis, 3 sentinels, the watchdog
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(10)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert waiting.until(lambda: processes_under(drill_dir) == [], 20), processes_under(drill_dir)
    assert "controller" in (state / "servers" / "watchdog.log").read_text()


def test_asynchronous_replication_reports_what_it_lost_whatever_it_is(drill_dir: Path) -> None:
    backend = drilling.LocalBackend(
        scenario="db-primary-loss", state_dir=drill_dir / "state", synchronous=False
    )
    result = running.run(scenarios.DB_PRIMARY_LOSS, backend, clocks.WallClock(), execute=True)
    observed = {r.step.id: r.observed for r in result.results}
    assert all(r.ok for r in result.results), observed
    assert observed["start-cluster"].endswith("sync standby None (asynchronous)")
    assert observed["decide-failover-candidate"].startswith(
        "asynchronous: Patroni promotes the least lagging of"
    )
    m = result.measurement
    # Not asserted to be 0: without a synchronous standby a loss is possible, and the drill must count it.
    assert m is not None and m.rpo_commits_lost is not None and m.rpo_commits_lost == len(m.lost)
    assert result.verdict == ("PolicyMet" if m.rpo_commits_lost == 0 else "PolicyBreached")
    assert processes_under(drill_dir) == []
