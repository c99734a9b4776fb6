"""Function pool: N processes of one function command, each an HTTP handler on its own port; 0 is fine.

The command is an argv with `{port}` placeholders (e.g. `python -m http.server {port} --bind
127.0.0.1`). A member is ready once `GET http://127.0.0.1:PORT<health_path>` answers below 500 (or, with
`health_path=None`, once the port accepts connections). Ready members are published in
`endpoints_file` (`{"endpoints": [{"name", "url"}]}`, rewritten atomically), which is what a router or
the load generator reads. Scale down removes the member from that file first, waits `grace` for
callers to notice, then stops it (SIGTERM, then the whole group after `stop_timeout`).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from scaleplane.local.pools import members
from scaleplane.local.servers import ports, processes

START_TIMEOUT = 30.0


@dataclass(frozen=True)
class Instance:
    process: processes.SupervisedProcess
    port: int

    @property
    def url(self) -> str:
        return f"http://{ports.HOST}:{self.port}"


class FunctionPool(members.Pool):
    kind = "FunctionPool"

    def __init__(
        self,
        name: str,
        state_dir: Path,
        *,
        command: Sequence[str],
        health_path: str | None = "/",
        endpoints_file: Path | None = None,
        env: Mapping[str, str] | None = None,
        grace: float = 0.5,
        stop_timeout: float = 10.0,
        max_replicas: int = 20,
    ) -> None:
        super().__init__(name, state_dir, max_replicas=max_replicas)
        if not command or not any("{port}" in part for part in command):
            raise ValueError(f"FunctionPool {name!r}: command must contain '{{port}}', got {list(command)!r}")
        self.command = list(command)
        self.health_path = health_path
        self.endpoints_file = endpoints_file or state_dir / f"{name}-endpoints.json"
        self.env = {**os.environ, **(env or {})}
        self.grace = grace
        self.stop_timeout = stop_timeout

    def endpoints(self) -> list[str]:
        ready = sorted((m for m in self.members.values() if m.ready and not m.leaving), key=lambda m: m.index)
        return [m.handle.url for m in ready]

    def _probe(self, port: int) -> bool:
        if self.health_path is None:
            with socket.create_connection((ports.HOST, port), timeout=1):
                return True
        return requests.get(f"http://{ports.HOST}:{port}{self.health_path}", timeout=1).status_code < 500

    def _start(self, member: members.Member) -> None:
        def launch(port: int) -> None:
            process = processes.SupervisedProcess(
                member.name,
                [part.replace("{port}", str(port)) for part in self.command],
                run_dir=self.run_dir,
                env=self.env,
                stop_signal=signal.SIGTERM,
                stop_timeout=self.stop_timeout,
            )
            member.handle = Instance(process, port)
            process.start()
            try:
                process.wait_ready(lambda: self._probe(port), START_TIMEOUT, "answering HTTP")
            except processes.ProcessFailed:
                process.stop()
                raise

        ports.launch_on_port(member.name, None, launch, processes.failure_log)

    async def _bring_up(self, member: members.Member) -> None:
        await self._thread(member, self._start, member)

    def _membership_changed(self) -> None:
        ready = sorted((m for m in self.members.values() if m.ready and not m.leaving), key=lambda m: m.index)
        payload = {"endpoints": [{"name": m.name, "url": m.handle.url} for m in ready]}
        self.endpoints_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.endpoints_file.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(payload, indent=1))
        tmp.replace(self.endpoints_file)

    async def _take_down(self, member: members.Member) -> None:
        if member.served:
            await asyncio.sleep(self.grace)
        await self._stop(member)

    def _alive(self, member: members.Member) -> bool:
        instance: Instance | None = member.handle
        return instance is not None and instance.process.running()

    async def _stop(self, member: members.Member) -> None:
        instance: Instance | None = member.handle
        if instance is not None:
            await asyncio.to_thread(instance.process.stop)

    async def _cleanup_leftovers(self) -> None:
        self._membership_changed()

    def _describe(self, member: members.Member) -> dict[str, Any]:
        instance: Instance | None = member.handle
        if instance is None:
            return {}
        return {"pid": instance.process.pid, "url": instance.url}
