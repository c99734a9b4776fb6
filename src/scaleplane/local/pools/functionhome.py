"""Functions on the local platform: their pools, the gateway in front of them, and the wake endpoint.

From the policy files' `kind: Function` documents (functions.authoring.definitions) the platform builds:

    one FunctionPool per function    `FunctionPool/<namespace>.<name>`, each instance a runtime process
                                     (functions.hosting); ready instances are published in the gateway's
                                     route directory, `<state>/functions/routes/<namespace>/<name>.json`
    one ScalingPolicy per function   on the gateway's concurrency series, unless a policy file already
                                     targets that pool (then that policy is the one)
    the gateway process              `python -m scaleplane.gateway`, on `gateway_port` (or a free port),
                                     scraped by the platform's Prometheus; restarted on the same port if
                                     it dies, so callers keep their URL
    the wake endpoint                POST /v1/wake/<namespace>/<name> in this process: the gateway calls it
                                     when a call queues at zero, and the pool is asked for its wake count
                                     at once (the platform also marks the policy active, see `woken`)

Asynchronous calls (`Prefer: respond-async`) are journaled in the platform's Redis (db 2), so a gateway
killed and restarted loses none it acknowledged with 202 (functions.gateway.journaling).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import requests
import yaml
from aiohttp import web

from scaleplane.functions import announcing, routes
from scaleplane.functions.authoring import definitions
from scaleplane.local import policyfiles
from scaleplane.local.pools import functions
from scaleplane.local.servers import ports, processes

log = logging.getLogger(__name__)
JOURNAL_DB = 2  # the platform's Redis: 0 Celery, 1 the app's cache, 2 the gateway's journal, 3 the catalog
CATALOG_DB = 3
WATCH_SECONDS = 0.5


def load(path: Path) -> list[definitions.FunctionDefinition]:
    """Every `kind: Function` document under `path` (a file or a directory of YAML files)."""
    files = sorted([*path.glob("*.yaml"), *path.glob("*.yml")]) if path.is_dir() else [path]
    found: list[definitions.FunctionDefinition] = []
    for file in files:
        try:
            documents = [d for d in yaml.safe_load_all(file.read_text()) if d is not None]
        except (OSError, yaml.YAMLError):
            continue  # policyfiles.load reports unreadable files
        for index, document in enumerate(documents):
            if isinstance(document, dict) and document.get("kind") == definitions.KIND:
                where = f"{file.name}#{index + 1}"
                version = document.get("apiVersion")
                if version != policyfiles.API_VERSION:
                    raise policyfiles.PolicyFileError(
                        f"{where}: apiVersion must be {policyfiles.API_VERSION}, was {version!r}"
                    )
                try:
                    found.append(definitions.parse(document, where, file))
                except definitions.DefinitionError as exc:
                    raise policyfiles.PolicyFileError(str(exc)) from None
    keys = [str(d.key) for d in found]
    repeated = sorted({k for k in keys if keys.count(k) > 1})
    if repeated:
        raise policyfiles.PolicyFileError(f"policies: a Function is declared twice: {', '.join(repeated)}")
    return found


def policies(
    found: list[definitions.FunctionDefinition], given: list[policyfiles.PolicyFile]
) -> list[policyfiles.PolicyFile]:
    """The generated policy of every function that no given policy already scales."""
    from scaleplane.scaling import specs

    taken = {p.spec.target_ref.name for p in given if p.spec.target_ref.kind == "FunctionPool"}
    return [
        policyfiles.PolicyFile(
            definitions.policy_name(d), specs.parse_policy(definitions.policy_spec(d)), d.source
        )
        for d in found
        if d.pool_name not in taken
    ]


def routes_dir(state_dir: Path) -> Path:
    return state_dir / "functions" / "routes"


def build_pool(
    definition: definitions.FunctionDefinition, state_dir: Path, *, max_replicas: int | None = None
) -> functions.FunctionPool:
    command = [
        sys.executable, "-m", "scaleplane.functions.hosting", "--handler", definition.handler_reference,
        "--port", "{port}", "--namespace", definition.key.namespace, "--name", definition.key.name,
    ]  # fmt: skip
    return functions.FunctionPool(
        definition.pool_name,
        state_dir,
        command=command,
        health_path="/readyz",
        endpoints_file=routes.route_file(routes_dir(state_dir), definition.key),
        env={"PYTHONUNBUFFERED": "1"},
        grace=0.2,  # the gateway re-reads its routes every 20 ms; the runtime drains what is in flight
        stop_timeout=35.0,
        max_replicas=max(max_replicas or 0, definition.spec.max_replicas),
    )


Wake = Callable[[routes.FunctionKey], Awaitable[str]]


class FunctionHome:
    """The wake endpoint and the gateway process of one platform."""

    def __init__(
        self,
        state_dir: Path,
        *,
        gateway_port: int | None = None,
        redis_url: str | None = None,
        hooks: tuple[announcing.Hook, ...] = (),
    ) -> None:
        self.state_dir = state_dir
        self.work = state_dir / "functions"
        self.requested_port = gateway_port
        self.gateway_port = 0
        self.redis_url = redis_url
        self.hooks = hooks
        self.gateway: processes.SupervisedProcess | None = None
        self.restarts = 0
        self._wake_runner: web.AppRunner | None = None
        self._wake_port = 0
        self._watcher: asyncio.Task[None] | None = None
        self._on_wake: Wake | None = None

    @property
    def gateway_url(self) -> str:
        return f"http://{ports.HOST}:{self.gateway_port}"

    async def start(self, on_wake: Wake) -> None:
        self._on_wake = on_wake
        app = web.Application()
        app.router.add_post("/v1/wake/{namespace}/{name}", self._wake)
        self._wake_runner = web.AppRunner(app, access_log=None)
        await self._wake_runner.setup()
        self._wake_port = await asyncio.to_thread(ports.free_port)
        await web.TCPSite(self._wake_runner, ports.HOST, self._wake_port).start()
        await asyncio.to_thread(
            ports.launch_on_port, "gateway", self.requested_port, self._launch, processes.failure_log
        )
        self._watcher = asyncio.get_running_loop().create_task(self._watch())

    async def _wake(self, request: web.Request) -> web.Response:
        key = routes.FunctionKey(request.match_info["namespace"], request.match_info["name"])
        assert self._on_wake is not None
        try:
            what = await self._on_wake(key)
        except KeyError:
            return web.json_response(
                {"error": {"code": "NotFound", "message": f"no function {key}"}}, status=404
            )
        return web.json_response({"function": str(key), "result": what}, status=202)

    def settings(self, port: int) -> dict[str, Any]:
        config: dict[str, Any] = {
            "listen": f"{ports.HOST}:{port}",
            "routes": str(routes_dir(self.state_dir)),
            "wakeUrl": f"http://{ports.HOST}:{self._wake_port}",
        }
        if self.redis_url:
            config["journal"] = self.redis_url
        if self.hooks:
            config["hooks"] = [h.model_dump(by_alias=True, exclude_none=True) for h in self.hooks]
        return config

    def _launch(self, port: int) -> None:
        self.work.mkdir(parents=True, exist_ok=True)
        config_path = self.work / "gateway.yaml"
        config_path.write_text(yaml.safe_dump(self.settings(port), sort_keys=False))
        gateway = processes.SupervisedProcess(
            "gateway",
            [sys.executable, "-m", "scaleplane.gateway", "--config", str(config_path)],
            run_dir=self.work,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            stop_timeout=35.0,
        )
        gateway.start()
        try:
            gateway.wait_ready(lambda: _ok(f"http://{ports.HOST}:{port}/readyz"), 30, "answering /readyz")
        except processes.ProcessFailed:
            gateway.stop()
            raise
        self.gateway, self.gateway_port = gateway, port

    async def _watch(self) -> None:
        """Restart a gateway that died (killed, crashed) on the same port, so its URL stays valid."""
        while True:
            await asyncio.sleep(WATCH_SECONDS)
            if self.gateway is not None and not self.gateway.running():
                code = self.gateway.exit_code()
                log.warning("gateway exited (code %s); restarting it on port %d", code, self.gateway_port)
                started = time.monotonic()
                try:
                    await asyncio.to_thread(self.gateway.stop)
                    await asyncio.to_thread(self._launch, self.gateway_port)
                    self.restarts += 1
                    log.info("gateway back in %.2f s", time.monotonic() - started)
                except Exception as exc:
                    log.error("gateway restart failed: %s; retrying", exc)

    async def stop_gateway(self) -> None:
        """Stop the gateway first (it drains: calls in flight and queued finish), then the wake endpoint."""
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
            self._watcher = None
        if self.gateway is not None:
            await asyncio.to_thread(self.gateway.stop)
        if self._wake_runner is not None:
            await self._wake_runner.cleanup()
            self._wake_runner = None


def _ok(url: str) -> bool:
    return requests.get(url, timeout=1).status_code == 200
