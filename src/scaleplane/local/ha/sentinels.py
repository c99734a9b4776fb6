"""Redis with Sentinel on 127.0.0.1: one primary, replicas, and three sentinels (quorum 2) that elect and
reconfigure by themselves (the Debian redis-server and redis-sentinel).

No persistence, as the platform's cache: a restarted node comes back empty and Sentinel turns it into a
replica of whoever is primary now. Sentinels rewrite their config files, so each has its own, writable.
`down-after-milliseconds` 1000 and `failover-timeout` 5000: a lost primary is replaced in a few seconds.
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass, field
from pathlib import Path

import redis as redis_client

from scaleplane.local.servers import binaries, ports, processes

SENTINEL = binaries.Binary("redis-sentinel", Path("/usr/bin/redis-sentinel"), "redis-sentinel")
SERVICE = "scaleplane"
QUORUM = 2


@dataclass
class Node:
    name: str
    port: int
    process: processes.SupervisedProcess | None = field(default=None, repr=False)


def ping(port: int) -> bool:
    with socket.create_connection((ports.HOST, port), timeout=0.5) as sock:
        sock.sendall(b"PING\r\n")
        return sock.recv(16).startswith(b"+PONG")


class SentinelGroup:
    def __init__(self, home: Path, *, replicas: int = 2, sentinels: int = 3) -> None:
        self.home = home
        self.nodes = [Node(f"redis{i}", 0) for i in range(1, replicas + 2)]
        self.sentinels = [Node(f"sentinel{i}", 0) for i in range(1, sentinels + 1)]

    @property
    def sentinel_addresses(self) -> list[tuple[str, int]]:
        return [(ports.HOST, s.port) for s in self.sentinels]

    def node(self, name: str) -> Node:
        return next(n for n in self.nodes if n.name == name)

    def _start(self, node: Node, argv: list[str | Path], timeout: float) -> None:
        node.process = processes.SupervisedProcess(node.name, argv, run_dir=self.home, stop_timeout=5.0)
        node.process.start()
        try:
            node.process.wait_ready(lambda: ping(node.port), timeout, "answering PING")
        except processes.ProcessFailed:
            node.process.stop()
            raise

    def start_node(self, node: Node, replica_of: int | None, timeout: float = 15.0) -> None:
        path = binaries.require(binaries.REDIS)
        node.port = node.port or ports.free_port()
        workdir = self.home / node.name
        workdir.mkdir(parents=True, exist_ok=True)
        argv: list[str | Path] = [
            path, "--bind", ports.HOST, "--port", str(node.port), "--save", "", "--appendonly", "no",
            "--dir", workdir, "--protected-mode", "no", "--daemonize", "no",
            "--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "0",
        ]  # fmt: skip
        if replica_of is not None:
            argv += ["--replicaof", ports.HOST, str(replica_of)]
        self._start(node, argv, timeout)

    def start(self, timeout: float = 30.0) -> SentinelGroup:
        self.home.mkdir(parents=True, exist_ok=True)
        primary, *replicas = self.nodes
        self.start_node(primary, None)
        for replica in replicas:
            self.start_node(replica, primary.port)
        path = binaries.require(SENTINEL)
        for sentinel in self.sentinels:
            sentinel.port = ports.free_port()
            conf = self.home / f"{sentinel.name}.conf"
            conf.write_text(
                f"bind {ports.HOST}\nport {sentinel.port}\nprotected-mode no\ndir {self.home}\n"
                f"sentinel monitor {SERVICE} {ports.HOST} {primary.port} {QUORUM}\n"
                f"sentinel down-after-milliseconds {SERVICE} 1000\n"
                f"sentinel failover-timeout {SERVICE} 5000\n"
                f"sentinel parallel-syncs {SERVICE} 1\n"
            )
            self._start(sentinel, [path, conf], timeout)
        self.wait_for(lambda: self.linked_replicas() == len(replicas), timeout, "replicas linked")
        self.wait_for(lambda: self.sentinels_agree() == primary.port, timeout, "sentinels agreeing")
        others = len(self.sentinels) - 1
        seeing = lambda: all(self._known_sentinels(s) >= others for s in self.sentinels)  # noqa: E731
        self.wait_for(seeing, timeout, "sentinels seeing each other")
        return self

    def _known_sentinels(self, sentinel: Node) -> int:
        with redis_client.Redis(host=ports.HOST, port=sentinel.port, socket_timeout=0.5) as client:
            return len(client.execute_command("SENTINEL", "SENTINELS", SERVICE))

    def wait_for(self, check: object, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if callable(check) and check():
                    return
            except (redis_client.RedisError, OSError):
                pass
            time.sleep(0.1)
        raise processes.ProcessFailed(f"Redis Sentinel group: no {what} within {timeout:g} s")

    def primary_port(self, sentinel: Node) -> int | None:
        with redis_client.Redis(host=ports.HOST, port=sentinel.port, socket_timeout=0.5) as client:
            address = client.execute_command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", SERVICE)
        return int(address[1]) if address else None

    def sentinels_agree(self) -> int | None:
        """The primary's port when every live sentinel names the same one, else None."""
        seen = set()
        for sentinel in self.sentinels:
            try:
                seen.add(self.primary_port(sentinel))
            except (redis_client.RedisError, OSError):
                continue
        return seen.pop() if len(seen) == 1 else None

    def reachable_sentinels(self) -> int:
        count = 0
        for sentinel in self.sentinels:
            try:
                count += ping(sentinel.port)
            except OSError:
                continue
        return count

    def linked_replicas(self, port: int | None = None) -> int:
        port = port or self.nodes[0].port
        with redis_client.Redis(host=ports.HOST, port=port, socket_timeout=0.5) as client:
            info = client.info("replication")
        return sum(1 for key, value in info.items() if key.startswith("slave") and isinstance(value, dict)
                   and value.get("state") == "online")  # fmt: skip

    def name_of(self, port: int) -> str | None:
        return next((n.name for n in self.nodes if n.port == port), None)

    def kill(self, name: str) -> None:
        node = self.node(name)
        if node.process is not None and node.process.pid is not None:
            processes.end_group(node.process.pid, grace=0.0)
            node.process.stop()

    def restart(self, name: str) -> None:
        """Start a lost node again, as a plain primary: Sentinel must notice and make it a replica."""
        self.start_node(self.node(name), None)

    def role(self, name: str) -> str:
        with redis_client.Redis(host=ports.HOST, port=self.node(name).port, socket_timeout=0.5) as client:
            return str(client.info("replication").get("role"))

    def stop(self) -> None:
        for node in [*self.sentinels, *self.nodes]:
            if node.process is not None:
                node.process.stop()
