"""A real Redis (the Debian redis-server) on 127.0.0.1: no persistence, its own working directory."""

from __future__ import annotations

import socket
from pathlib import Path

import redis as redis_client

from scaleplane.local.servers import binaries, ports, processes


class RedisServer:
    def __init__(self, workdir: Path, *, port: int | None = None, binary: Path = binaries.REDIS.path) -> None:
        self.workdir = workdir
        self.requested_port = port
        self.port = port or 0
        self.binary = binaries.Binary("redis-server", binary, binaries.REDIS.package)
        self.process: processes.SupervisedProcess | None = None

    @property
    def url(self) -> str:
        return f"redis://{ports.HOST}:{self.port}/0"

    def client(self) -> redis_client.Redis:
        return redis_client.Redis(host=ports.HOST, port=self.port, socket_timeout=5)

    def start(self, timeout: float = 15.0) -> RedisServer:
        path = binaries.require(self.binary)
        self.workdir.mkdir(parents=True, exist_ok=True)

        def launch(port: int) -> None:
            self.port = port
            self.process = processes.SupervisedProcess(
                "redis",
                [
                    path,
                    "--bind",
                    ports.HOST,
                    "--port",
                    str(port),
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--dir",
                    self.workdir,
                    "--protected-mode",
                    "no",
                    "--daemonize",
                    "no",
                    "--logfile",
                    "",
                ],
                run_dir=self.workdir,
                stop_timeout=5.0,
            )
            self.process.start()
            try:
                self.process.wait_ready(self._ping, timeout, "answering PING")
            except processes.ProcessFailed:
                self.process.stop()
                raise

        ports.launch_on_port("redis", self.requested_port, launch, processes.failure_log)
        return self

    def _ping(self) -> bool:
        # A raw PING with a short timeout: redis-py retries a timed-out call several times, which makes a
        # probe of a port held by someone else (a listener that never answers) take many seconds.
        with socket.create_connection((ports.HOST, self.port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()
