"""Free ports on 127.0.0.1, and starting a server on one despite the race between choosing and binding.

A port found free by binding port 0 can be taken by someone else before our server binds it; servers are
therefore started through `launch_on_port`, which retries on a fresh port when the server's own log says
the address was in use. A port the user fixed is never silently replaced: it fails with a clear error.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import TypeVar

HOST = "127.0.0.1"
ATTEMPTS = 4

T = TypeVar("T")


class PortInUseError(RuntimeError):
    """A port asked for explicitly is taken."""


def free_port(host: str = HOST) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def in_use(port: int, host: str = HOST) -> bool:
    """True when a socket is bound to the port. Connections of a server that just stopped linger in
    TIME_WAIT for a minute; the servers we start bind with SO_REUSEADDR and take such a port, so the
    check does too (on Linux it still fails while anything listens there)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return True
        return False


def require_free(port: int, what: str, host: str = HOST) -> None:
    if in_use(port, host):
        raise PortInUseError(
            f"port {port} on {host} (asked for {what}) is already in use: stop what holds it "
            f"(`ss -ltnp 'sport = :{port}'` shows it) or leave the port unset to pick a free one"
        )


def says_address_in_use(text: str) -> bool:
    return "address already in use" in text.lower()


def launch_on_port(
    what: str,
    fixed_port: int | None,
    launch: Callable[[int], T],
    log_of_failure: Callable[[Exception], str],
) -> T:
    """Call `launch(port)`; on an address-in-use failure of a port we chose, try again on a new one."""
    if fixed_port is not None:
        require_free(fixed_port, what)
        return launch(fixed_port)
    last: Exception | None = None
    for _ in range(ATTEMPTS):
        try:
            return launch(free_port())
        except Exception as error:
            if not says_address_in_use(log_of_failure(error)):
                raise
            last = error
    assert last is not None
    raise last
