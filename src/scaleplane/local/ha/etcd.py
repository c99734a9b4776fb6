"""One etcd member (the Debian etcd-server) on 127.0.0.1: the store Patroni keeps its leader lease in.

A single member is enough on one machine (losing it is its own scenario, not the one Patroni solves).
Patroni talks to it through the v3 JSON gateway, which etcd 3.4 serves on the client port.
"""

from __future__ import annotations

from pathlib import Path

import requests

from scaleplane.local.servers import binaries, ports, processes

ETCD = binaries.Binary("etcd", Path("/usr/bin/etcd"), "etcd-server")


class EtcdServer:
    def __init__(self, data_dir: Path, *, name: str = "etcd", run_dir: Path | None = None) -> None:
        self.data_dir = data_dir
        self.name = name
        self.run_dir = run_dir or data_dir.parent
        self.client_port = 0
        self.peer_port = 0
        self.process: processes.SupervisedProcess | None = None

    @property
    def url(self) -> str:
        return f"http://{ports.HOST}:{self.client_port}"

    def start(self, timeout: float = 20.0) -> EtcdServer:
        path = binaries.require(ETCD)
        self.data_dir.mkdir(parents=True, exist_ok=True)

        def launch(client_port: int) -> None:
            self.client_port = client_port
            self.peer_port = ports.free_port()
            peer = f"http://{ports.HOST}:{self.peer_port}"
            self.process = processes.SupervisedProcess(
                self.name,
                [
                    path,
                    "--name",
                    self.name,
                    "--data-dir",
                    self.data_dir,
                    "--listen-client-urls",
                    self.url,
                    "--advertise-client-urls",
                    self.url,
                    "--listen-peer-urls",
                    peer,
                    "--initial-advertise-peer-urls",
                    peer,
                    "--initial-cluster",
                    f"{self.name}={peer}",
                    "--initial-cluster-state",
                    "new",
                ],
                run_dir=self.run_dir,
                stop_timeout=5.0,
            )
            self.process.start()
            try:
                self.process.wait_ready(self.healthy, timeout, "healthy")
            except processes.ProcessFailed:
                self.process.stop()
                raise

        ports.launch_on_port(self.name, None, launch, processes.failure_log)
        return self

    def healthy(self) -> bool:
        response = requests.get(f"{self.url}/health", timeout=1)
        return response.ok and response.json().get("health") == "true"

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()
