"""Keep the platform's function pools in step with the Redis catalog (`scaleplane fn deploy|rollback|delete`).

Every `POLL_SECONDS` the platform reads the catalog's revision counter; when it moved, each function's
current version is compared with what runs:

    new in the catalog        its code is written to <state>/functions/code/<ns>/<name>/v<N>/, a pool and
                              a policy are added to the running platform (the pool opens at minReplicas)
    another version current   the pool's command points at that version's code and its instances are
                              replaced: each old one leaves the routes and drains while a new one starts
                              (calls in between wait in the gateway's queue: a deploy at 1 instance
                              costs one cold start, not a failed call)
    gone from the catalog     the policy is dropped and the pool closed (it drains); the route goes

A function declared in a policy file wins over a catalog entry of the same name (logged once).
Each change, and each new count asked of any function pool, goes out as a CloudEvent to the hooks of
`SCALEPLANE_HOOKS` (functions.announcing): deployed, rolledback, deleted, scaled.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any, Protocol

from scaleplane.control import policies
from scaleplane.functions import announcing, routes
from scaleplane.functions.authoring import catalog, definitions
from scaleplane.local.pools import functionhome, functions
from scaleplane.scaling import decisions, specs

log = logging.getLogger(__name__)
POLL_SECONDS = 0.5
NAMESPACE = "local"


class Host(Protocol):
    """What of the platform the sync changes (local.platform.Platform has these)."""

    managed: list[policies.ManagedPolicy]
    targets: dict[str, Any]
    servers_dir: Path


def materialize(state_dir: Path, version: catalog.Version) -> definitions.FunctionDefinition:
    """Write a version's handler where its instances load it from; the definition that runs it."""
    where = (
        state_dir / "functions" / "code" / version.key.namespace / version.key.name / f"v{version.version}"
    )
    where.mkdir(parents=True, exist_ok=True)
    (where / version.file).write_text(version.source)
    _, _, attribute = version.spec.handler.partition(":")
    spec = version.spec.model_copy(update={"handler": f"{version.file}:{attribute or 'main'}"})
    return definitions.FunctionDefinition(version.key, spec, where / "function.yaml")


class CatalogSync:
    def __init__(
        self, host: Host, url: str, *, declared: set[str], hooks: tuple[announcing.Hook, ...] = ()
    ) -> None:
        self.host = host
        self.announcer = announcing.Announcer(hooks, source="/scaleplane/local")
        self._desired: dict[str, int] = {}
        self.catalog = catalog.Catalog(url)
        self.declared = declared  # pool names from policy files
        self.running: dict[routes.FunctionKey, int] = {}  # key -> version that runs
        self.revision = -1
        self.errors: list[str] = []
        self._warned: set[str] = set()

    async def run(self) -> None:
        while True:
            try:
                revision = await asyncio.to_thread(self.catalog.revision)
                if revision != self.revision:
                    await self.apply()
                    self.revision = revision
            except Exception as exc:  # Redis briefly away, a bad version: keep what runs, try again
                log.warning("function catalog: %s", exc)
                self.errors = [*self.errors[-9:], str(exc)]
            self.announce_scaling()
            await asyncio.sleep(POLL_SECONDS)

    def announce_scaling(self) -> None:
        """A `scaled` event for every function pool asked for another count since the last look."""
        for key, target in list(self.host.targets.items()):
            if not key.startswith("FunctionPool/"):
                continue
            desired, before = int(target.desired), self._desired.get(key)
            self._desired[key] = desired
            if before is not None and before != desired:
                function = key.removeprefix("FunctionPool/").replace(".", "/", 1)
                self.announcer.offer(
                    "scaled", function, {"function": function, "from": before, "to": desired}
                )

    async def apply(self) -> None:
        wanted = {}
        for key in await asyncio.to_thread(self.catalog.functions):
            pool_name = f"{key.namespace}.{key.name}"
            if pool_name in self.declared:
                if pool_name not in self._warned:
                    log.warning("catalog function %s ignored: a policy file declares it", key)
                    self._warned.add(pool_name)
                continue
            wanted[key] = await asyncio.to_thread(self.catalog.current, key)
        for key in set(self.running) - set(wanted):
            await self._remove(key)
        for key, version in wanted.items():
            if self.running.get(key) != version.version:
                await self._run(version)

    def _target_key(self, key: routes.FunctionKey) -> str:
        return f"FunctionPool/{key.namespace}.{key.name}"

    async def _run(self, version: catalog.Version) -> None:
        definition = materialize(self.host.servers_dir, version)
        spec = specs.parse_policy(definitions.policy_spec(definition))
        target_key = self._target_key(version.key)
        pool = self.host.targets.get(target_key)
        if pool is None:
            pool = functionhome.build_pool(definition, self.host.servers_dir)
            await pool.open(spec.min_replicas)
            self.host.targets[target_key] = pool
            self.host.managed.append(
                policies.ManagedPolicy(
                    key=policies.PolicyKey(NAMESPACE, definitions.policy_name(definition)),
                    spec=spec,
                    state=decisions.ScalingState(),
                    target=pool,
                )
            )
            log.info("catalog: %s v%d added", version.key, version.version)
            self._announce("deployed", version, None)
        else:
            for managed in self.host.managed:
                if managed.target is pool:
                    managed.spec = spec
            pool.max_replicas = max(pool.max_replicas, spec.max_replicas)
            pool.command = functionhome.build_pool(definition, self.host.servers_dir).command
            roll(pool)
            log.info("catalog: %s now at v%d; its instances are being replaced", version.key, version.version)
            previous = self.running.get(version.key)
            self._announce(
                "deployed" if previous is None or version.version > previous else "rolledback",
                version,
                previous,
            )
        self.running[version.key] = version.version

    def _announce(self, kind: str, version: catalog.Version, previous: int | None) -> None:
        data = {
            "function": str(version.key),
            "version": version.version,
            "previous": previous,
            "note": version.note,
        }
        self.announcer.offer(kind, str(version.key), data)

    async def _remove(self, key: routes.FunctionKey) -> None:
        target_key = self._target_key(key)
        pool = self.host.targets.pop(target_key, None)
        self.host.managed[:] = [m for m in self.host.managed if m.target is not pool]
        if pool is not None:
            # The route goes first, so new calls get 404 at once instead of queueing for a function that
            # is leaving; the pool's own membership writes go elsewhere while its instances drain.
            route = routes.route_file(functionhome.routes_dir(self.host.servers_dir), key)
            pool.endpoints_file = pool.run_dir / "endpoints-after-delete.json"
            route.unlink(missing_ok=True)
            await pool.close()
        gone = self.running.pop(key, None)
        log.info("catalog: %s deleted; its pool is closed", key)
        self.announcer.offer("deleted", str(key), {"function": str(key), "version": gone})

    async def close(self) -> None:
        await self.announcer.close()
        self.catalog.close()


def roll(pool: functions.FunctionPool) -> None:
    """Replace every instance: old ones leave (and drain), the pool starts as many with the new command."""
    for member in [m for m in pool.members.values() if not m.leaving]:
        member.leaving = True
        pool._spawn(pool._take_down_guarded(member))
    pool._reconcile()
