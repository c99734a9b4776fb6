"""Supervised processes and server start-up faults: whole groups end, leftovers of a crashed run are
found by PID file, a missing binary names its install command, a port in use is handled."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from scaleplane.local.servers import binaries, ports, postgres, processes, prometheus, redis

SHELL_WITH_CHILDREN = ["sh", "-c", "sleep 300 & sleep 300 & echo started; wait"]


def gone(pid: int) -> bool:
    return processes.start_ticks(pid) is None


def wait_gone(pids: list[int], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while not all(gone(pid) for pid in pids):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def children_of(pgid: int) -> list[int]:
    deadline = time.monotonic() + 5
    while len(members := processes.group_members(pgid)) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    return members


def test_stop_ends_the_whole_process_group(tmp_path: Path) -> None:
    proc = processes.SupervisedProcess("shell", SHELL_WITH_CHILDREN, run_dir=tmp_path).start()
    assert proc.pid is not None
    members = children_of(proc.pid)
    assert len(members) == 3, "the shell and its two sleeps share the new process group"
    record = processes.read_record(proc.pid_file)
    assert record is not None and record.pid == proc.pid and processes.alive(record)
    proc.stop()
    assert all(gone(pid) for pid in members)
    assert not proc.pid_file.exists()
    proc.stop()  # idempotent


def test_stop_kills_what_ignores_the_stop_signal(tmp_path: Path) -> None:
    stubborn = [
        sys.executable,
        "-c",
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(300)",
    ]
    proc = processes.SupervisedProcess("stubborn", stubborn, run_dir=tmp_path, stop_timeout=0.5).start()
    try:
        time.sleep(0.3)  # let it install the handler
        started = time.monotonic()
        proc.stop()
    finally:  # an interrupted run must not leave a process that ignores SIGTERM
        proc.stop()
    assert proc.pid is not None and gone(proc.pid)
    assert proc.exit_code() == -signal.SIGKILL
    assert time.monotonic() - started < 5


def test_next_start_ends_a_leftover_of_a_crashed_run(tmp_path: Path) -> None:
    crashed = processes.SupervisedProcess("svc", SHELL_WITH_CHILDREN, run_dir=tmp_path).start()
    assert crashed.pid is not None
    leftovers = children_of(crashed.pid)
    # The owner "crashes": nothing calls stop(). A later run with the same run directory starts again.
    assert [r.pid for r in processes.stale_records(tmp_path)] == [crashed.pid]
    again = processes.SupervisedProcess("svc", ["sleep", "300"], run_dir=tmp_path).start()
    try:
        assert wait_gone(leftovers), "the leftover group must be ended before the new start"
        record = processes.read_record(again.pid_file)
        assert record is not None and record.pid == again.pid
    finally:
        again.stop()
        crashed.stop()


def test_a_stale_pid_file_of_a_reused_pid_ends_nobody(tmp_path: Path) -> None:
    # A live stranger whose PID (and group) the file names, but with another start time: the process of
    # the file is gone and the PID was reused. A group of our own with a live leader, so the test does not
    # depend on how the test runner itself was started (CI may run it in a group whose leader has exited).
    stranger = subprocess.Popen(["sleep", "60"], start_new_session=True)
    try:
        pid_file = tmp_path / "old.pid"
        record = {"name": "old", "pid": stranger.pid, "pgid": stranger.pid, "start_ticks": 1, "argv": ["x"]}
        pid_file.write_text(json.dumps(record))
        assert processes.stale_records(tmp_path) == []
        assert processes.clean_stale(pid_file) is None
        assert not pid_file.exists()
        assert stranger.poll() is None, "the stranger was signalled"
    finally:
        stranger.kill()
        stranger.wait()


def test_early_exit_fails_with_the_log(tmp_path: Path) -> None:
    proc = processes.SupervisedProcess(
        "broken", ["sh", "-c", "echo no config here >&2; exit 3"], run_dir=tmp_path
    )
    proc.start()
    with pytest.raises(processes.ProcessFailed, match=r"(?s)exited with code 3.*no config here"):
        proc.wait_ready(lambda: False, timeout=10)
    proc.stop()


@pytest.mark.parametrize(
    ("start", "package"),
    [
        (
            lambda d: prometheus.PrometheusServer(d, binary=Path("/nonexistent/prometheus")).start(),
            "prometheus",
        ),
        (lambda d: redis.RedisServer(d, binary=Path("/nonexistent/redis-server")).start(), "redis-server"),
        (lambda d: postgres.PostgresServer(d / "pg", bin_dir=Path("/nonexistent/bin")).start(), "postgresql"),
    ],
)
def test_a_missing_binary_names_the_install_command(start, package: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(binaries.MissingBinaryError) as failure:
        start(tmp_path)
    assert f"apt-get install -y {package}`" in str(failure.value)
    assert "/nonexistent/" in str(failure.value)


@pytest.fixture
def held_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind((ports.HOST, 0))
        sock.listen()
        yield sock.getsockname()[1]


def test_a_fixed_port_in_use_is_refused_by_name(held_port: int, tmp_path: Path) -> None:
    with pytest.raises(ports.PortInUseError, match=f"port {held_port} on 127.0.0.1 .*redis.* already in use"):
        redis.RedisServer(tmp_path, port=held_port).start()


def test_a_port_held_only_by_time_wait_connections_is_free_while_a_listener_is_not() -> None:
    port = ports.free_port()
    with socket.create_server((ports.HOST, port)) as listener:
        client = socket.create_connection((ports.HOST, port))
        accepted, _ = listener.accept()
        accepted.close()  # the server closes first: its side of the connection waits in TIME_WAIT
        client.close()
        assert ports.in_use(port)  # still listening
    assert not ports.in_use(port)  # only TIME_WAIT is left: a server with SO_REUSEADDR binds it
    ports.require_free(port, "a restarted demo")


@pytest.mark.servers
def test_a_chosen_port_taken_meanwhile_is_replaced(
    held_port: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Another program grabs the free port between our choice and redis-server's bind.
    choices = iter([held_port])
    real_free_port = ports.free_port
    monkeypatch.setattr(
        ports, "free_port", lambda host=ports.HOST: next(choices, None) or real_free_port(host)
    )
    server = redis.RedisServer(tmp_path).start()
    try:
        assert server.port != held_port
        with server.client() as client:
            assert client.ping()
        assert "Address already in use" in (tmp_path / "redis.log").read_text()
    finally:
        server.stop()
