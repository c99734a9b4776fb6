"""tests.support.endpoints.free_port on several pytest-xdist workers: each worker gets ports of its own
share only, and gets them at once (a share by parity once left the odd worker looping forever, since
Linux hands out port 0 binds of one parity)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tests.support import endpoints


@pytest.mark.timeout(20)
@pytest.mark.parametrize(("worker", "workers"), [(0, 2), (1, 2), (2, 3)])
def test_each_worker_is_handed_ports_of_its_own_share_only(
    worker: int, workers: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTEST_XDIST_WORKER", f"gw{worker}")
    monkeypatch.setenv("PYTEST_XDIST_WORKER_COUNT", str(workers))
    ports = [endpoints.free_port() for _ in range(100)]
    assert all((port // endpoints.PORT_BLOCK) % workers == worker for port in ports)
    assert len(set(ports)) == len(ports)


def test_one_process_takes_any_free_port(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    monkeypatch.delenv("PYTEST_XDIST_WORKER_COUNT", raising=False)
    assert endpoints._worker_share() == (0, 1)
    assert endpoints.free_port() > 0


def test_ports_come_from_below_the_ephemeral_range_where_no_connection_takes_them() -> None:
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    ports = [endpoints.free_port() for _ in range(50)]
    assert all(port < low for port in ports), (low, ports)
    with (
        socket.create_server(("127.0.0.1", 0)) as server,
        socket.create_connection(server.getsockname()) as outgoing,
    ):
        assert outgoing.getsockname()[1] >= low  # its source port: in the range free_port leaves alone


def test_when_that_range_is_used_up_a_port_0_bind_still_serves(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(endpoints, "_unassigned_ports", lambda: range(0))
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw1")
    monkeypatch.setenv("PYTEST_XDIST_WORKER_COUNT", "2")
    port = endpoints.free_port()
    assert (port // endpoints.PORT_BLOCK) % 2 == 1
