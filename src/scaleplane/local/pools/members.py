"""What every local pool shares: the ScaleTarget contract over a set of supervised members.

A pool holds members (a worker process, a replica server, a function process). `scale(n)` only records
the wish and starts the work in background tasks, as the Protocol asks (it returns once the request is
accepted); `read()` says how many are asked for (`current`) and how many serve now (`ready`).

Invariants:
- `current` is the last number asked for; `ready` counts live members whose readiness check passed.
- Scale down picks members that are not ready yet first, then the newest: a starting member is cheap
  to abandon, an old one is warm.
- A leaving member is out of `ready` at once and drained by the pool's own `_take_down` (a Celery warm
  shutdown, a replica removed from the read pool before it stops); it is not counted again.
- A member that fails to come up is dropped, its error kept in `errors`, and the pool retries after a
  back-off while it is still short of members.
- The pool's state file (`<state_dir>/pools/<name>.json`) says desired, ready and members, for the
  exporters and `status`; PID files of members live under `<state_dir>/<name>/`, so `open()` ends
  leftovers of a crashed run before starting anything.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from scaleplane.local.servers import processes
from scaleplane.targets import protocol

log = logging.getLogger(__name__)
RETRY_SECONDS = 2.0
MAX_ERRORS_KEPT = 20
T = TypeVar("T")


@dataclass
class Member:
    name: str
    index: int
    ready: bool = False
    leaving: bool = False
    served: bool = False  # was ready at some point (a drain is only owed to members that served)
    handle: Any = None  # the pool's own object: a SupervisedProcess, a PostgresServer, ...
    started_at: float = field(default_factory=time.monotonic)
    task: asyncio.Task[None] | None = None
    threads: set[asyncio.Future[Any]] = field(default_factory=set)


def pools_dir(state_dir: Path) -> Path:
    return state_dir / "pools"


def read_pool_states(state_dir: Path) -> list[dict[str, Any]]:
    """Every pool's last written state file (what the exporter and `status` show)."""
    found = []
    for path in sorted(pools_dir(state_dir).glob("*.json")):
        with contextlib.suppress(OSError, ValueError):
            found.append(json.loads(path.read_text()))
    return found


class Pool:
    kind = "Pool"

    def __init__(self, name: str, state_dir: Path, *, max_replicas: int = 50) -> None:
        self.name = name
        self.state_dir = state_dir
        self.run_dir = state_dir / name
        self.max_replicas = max_replicas
        self.desired = 0
        self.members: dict[str, Member] = {}
        self.errors: list[str] = []
        self._numbers = itertools.count(1)
        self._tasks: set[asyncio.Task[None]] = set()
        self._retry: asyncio.TimerHandle | None = None
        self._closed = False

    # The ScaleTarget protocol ---------------------------------------------------------------------

    async def read(self) -> protocol.ReplicaCount:
        if self._closed:
            raise protocol.TargetError(f"{self.kind} {self.name!r} is closed", retryable=False)
        self.check_health()
        ready = sum(1 for m in self.members.values() if m.ready and not m.leaving)
        return protocol.ReplicaCount(current=self.desired, ready=ready)

    def check_health(self) -> list[str]:
        """Drop ready members whose process died (crash, OOM kill) and start replacements; their names."""
        dead = [m for m in self.members.values() if m.ready and not m.leaving and not self._alive(m)]
        for member in dead:
            self._record_error(f"{member.name} exited unexpectedly; replacing it")
            member.ready = False
            member.leaving = True  # out of the count now; the take-down only reaps what is left of it
            self._spawn(self._take_down_guarded(member))
        if dead:
            self._membership_changed()
            self._reconcile()
        return [m.name for m in dead]

    async def scale(self, replicas: int) -> None:
        if self._closed:
            raise protocol.TargetError(f"{self.kind} {self.name!r} is closed", retryable=False)
        if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 0:
            raise protocol.TargetError(
                f"{self.kind} {self.name!r}: replicas must be a whole number >= 0, got {replicas!r}",
                retryable=False,
            )
        if replicas > self.max_replicas:
            raise protocol.TargetError(
                f"{self.kind} {self.name!r}: replicas {replicas} is above this pool's limit "
                f"{self.max_replicas} (max_replicas)",
                retryable=False,
            )
        self.desired = replicas
        self._reconcile()

    # Life cycle -------------------------------------------------------------------------------------

    async def open(self, replicas: int = 0) -> None:
        """End leftovers of an earlier run under this pool's directory, then ask for `replicas`."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        for pid_file in self.run_dir.glob("*.pid"):
            ended = processes.clean_stale(pid_file)
            if ended is not None:
                log.warning("%s %s: ended leftover %s (pid %d)", self.kind, self.name, ended.name, ended.pid)
        await self._cleanup_leftovers()
        await self.scale(replicas)

    async def close(self) -> None:
        """Scale to zero, wait for every member to drain and stop; the pool cannot be used afterwards."""
        if self._retry is not None:
            self._retry.cancel()
        self.desired = 0
        self._reconcile()
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
        self._closed = True
        self._write_state()

    async def wait_ready(self, replicas: int, timeout: float = 60.0) -> None:
        """Wait until exactly `replicas` members are ready and none is leaving (tests, demo start-up)."""
        deadline = time.monotonic() + timeout
        while True:
            count = await self.read()
            leaving = any(m.leaving for m in self.members.values())
            if count.ready == replicas and len(self.members) == replicas and not leaving:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"{self.kind} {self.name!r}: {count.ready} of {replicas} ready after {timeout:g} s "
                    f"(members {sorted(self.members)}; errors: {self.errors[-3:]})"
                )
            await asyncio.sleep(0.1)

    # Reconciliation ---------------------------------------------------------------------------------

    def _reconcile(self) -> None:
        live = [m for m in self.members.values() if not m.leaving]
        for _ in range(self.desired - len(live)):
            index = next(self._numbers)
            member = Member(name=f"{self.name}-{index}", index=index)
            self.members[member.name] = member
            member.task = self._spawn(self._bring_up_guarded(member))
        surplus = len(live) - self.desired
        if surplus > 0:
            victims = sorted(live, key=lambda m: (m.ready, -m.index))[:surplus]
            for member in victims:
                member.leaving = True
                self._spawn(self._take_down_guarded(member))
        self._write_state()

    def _spawn(self, coro: Any) -> asyncio.Task[None]:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _bring_up_guarded(self, member: Member) -> None:
        try:
            await self._bring_up(member)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            self._record_error(f"{member.name} did not come up: {error}")
            await self._stop_quietly(member)
            self.members.pop(member.name, None)
            self._schedule_retry()
        else:
            if not member.leaving:
                member.ready = member.served = True
                log.info("%s %s: %s ready", self.kind, self.name, member.name)
                self._membership_changed()
        finally:
            self._write_state()

    async def _take_down_guarded(self, member: Member) -> None:
        up = member.task
        if up is not None and not up.done():
            up.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await up
        # A thread of the bring-up (a process start, a base backup) outlives the cancelled task: let it
        # finish, so the member's process exists before we stop it and none is left running.
        await asyncio.gather(*member.threads, return_exceptions=True)
        member.ready = False
        self._membership_changed()
        self._write_state()
        try:
            await self._take_down(member)
        except Exception as error:
            self._record_error(f"{member.name} did not stop cleanly: {error}")
            await self._stop_quietly(member)
        finally:
            self.members.pop(member.name, None)
            self._write_state()

    async def _stop_quietly(self, member: Member) -> None:
        try:
            await self._stop(member)
        except Exception as error:
            self._record_error(f"{member.name}: stop failed: {error}")

    async def _thread(self, member: Member, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run blocking work for `member` in a thread that a take-down waits for (see above)."""
        future = asyncio.ensure_future(asyncio.to_thread(function, *args, **kwargs))
        member.threads.add(future)
        future.add_done_callback(member.threads.discard)
        return await asyncio.shield(future)

    def _schedule_retry(self) -> None:
        if self._closed or self._retry is not None:
            return

        def retry() -> None:
            self._retry = None
            if not self._closed:
                self._reconcile()

        self._retry = asyncio.get_running_loop().call_later(RETRY_SECONDS, retry)

    def _record_error(self, message: str) -> None:
        log.error("%s %s: %s", self.kind, self.name, message)
        self.errors = [*self.errors[-(MAX_ERRORS_KEPT - 1) :], message]

    def _write_state(self) -> None:
        path = pools_dir(self.state_dir) / f"{self.name}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        state = {
            "name": self.name,
            "kind": self.kind,
            "desired": self.desired,
            "ready": sum(1 for m in self.members.values() if m.ready and not m.leaving),
            "members": [
                {"name": m.name, "ready": m.ready, "leaving": m.leaving, **self._describe(m)}
                for m in sorted(self.members.values(), key=lambda m: m.index)
            ],
            "errors": self.errors[-3:],
            "updated": time.time(),
        }
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(state, indent=1))
        tmp.replace(path)

    # What each kind of pool provides --------------------------------------------------------------

    async def _bring_up(self, member: Member) -> None:
        """Start the member and return once it is ready (raise if it cannot be)."""
        raise NotImplementedError

    async def _take_down(self, member: Member) -> None:
        """Drain the member (it no longer counts as ready), then stop it."""
        await self._stop(member)

    async def _stop(self, member: Member) -> None:
        """Stop the member now, whatever state it is in (idempotent)."""
        raise NotImplementedError

    def _alive(self, member: Member) -> bool:
        """Whether a ready member's process still runs (checked on every `read`)."""
        return True

    def _membership_changed(self) -> None:
        """A member became ready or started leaving: publish the set of ready members (read pool, ...)."""

    async def _cleanup_leftovers(self) -> None:
        """Delete what a crashed run left besides processes (data directories, endpoint files)."""

    def _describe(self, member: Member) -> dict[str, Any]:
        return {}
