"""Small real HTTP endpoints for tests: free 127.0.0.1 ports, an aiohttp app served on one, and a hook
receiver that keeps what it is sent.

Every server a test starts on a port it must know first (Prometheus targets, moto, kubeconfigs, the
operator's metrics) takes it from `free_port`, which never hands out a port twice in one process and,
in a run on several pytest-xdist workers, only ports of this worker's share. The ports come from below
the kernel's ephemeral range: a port there is never the source port of an outgoing connection, which
could take it between the choice and the server's bind (an operator's metrics port was lost so, once,
to another process's connection: "address already in use" and a standby that never started).
"""

from __future__ import annotations

import asyncio
import functools
import os
import random
import socket
from pathlib import Path

from aiohttp import web

_handed_out: set[int] = set()
PORT_BLOCK = 256


def _worker_share() -> tuple[int, int]:
    """(this pytest-xdist worker's number, how many workers); (0, 1) in a run of one process."""
    name = os.environ.get("PYTEST_XDIST_WORKER", "")
    count = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    return (int(name.removeprefix("gw")) if name.startswith("gw") else 0), max(count, 1)


def free_port() -> int:
    """A port free right now on 127.0.0.1 (for servers whose port must be known before they start),
    never one this process handed out before, and in a run on several workers only ports of this
    worker's share, so two workers are never handed the same port between choosing it and binding it.
    The share is blocks of 256 ports (block % workers == its number). Taken below the ephemeral range
    (`_unassigned_ports`); when that range is used up or absent, from a port-0 bind as before."""
    number, count = _worker_share()
    mine = [p for p in _unassigned_ports() if (p // PORT_BLOCK) % count == number]
    start = _pick.randrange(len(mine)) if mine else 0
    for port in mine[start:] + mine[:start]:  # from a random place: two test runs on one machine
        if port not in _handed_out and _bindable(port):
            _handed_out.add(port)
            return port
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        # bind(0) hands out ports of one parity only on Linux, so a share by parity would loop forever
        if (port // PORT_BLOCK) % count == number and port not in _handed_out:
            _handed_out.add(port)
            return port


_pick = random.Random(os.getpid())


@functools.cache  # the kernel's range does not change during a test run
def _unassigned_ports() -> range:
    """Ports the kernel never picks by itself: below ip_local_port_range, where neither a port-0 bind
    nor an outgoing connection's source port lands (12,288 of them: 20480-32767 by default)."""
    try:
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768
    return range(max(1024, low - 48 * PORT_BLOCK), low)


def _bindable(port: int) -> bool:
    """Nothing holds the port now (a plain bind, so a port still in TIME_WAIT is passed over too)."""
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


async def serve(app: web.Application) -> tuple[web.AppRunner, str]:
    """Serve `app` on a free 127.0.0.1 port in the running loop: (its runner, for `cleanup()`; its base
    URL `http://127.0.0.1:PORT`). Every small HTTP endpoint a test plays (hook receivers, wakers, chat
    servers, fault proxies) starts this way."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner, f"http://127.0.0.1:{port}"


class HookReceiver:
    """A real HTTP endpoint on 127.0.0.1 (aiohttp, in the test's loop) that keeps what it receives."""

    def __init__(self, *, fail_first: int = 0, delay: float = 0.0) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.received_at: list[float] = []  # loop time of each kept delivery
        self.fail_first = fail_first
        self.delay = delay  # seconds each answer takes: a slow receiver
        self.attempts = 0
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def __aenter__(self) -> HookReceiver:
        app = web.Application()
        app.router.add_post("/hook", self._receive)
        self._runner, base = await serve(app)
        self.url = f"{base}/hook"
        return self

    async def __aexit__(self, *_: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _receive(self, request: web.Request) -> web.Response:
        self.attempts += 1
        body = await request.read()
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.attempts <= self.fail_first:
            return web.Response(status=503)
        self.received.append((dict(request.headers), body))
        self.received_at.append(asyncio.get_running_loop().time())
        return web.Response(status=204)
