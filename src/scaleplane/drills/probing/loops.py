"""The probes: a writer that commits a numbered sequence and a reader, each in its own thread,
recording every attempt with the drill's clock; and the data check after recovery.

`Probe` runs the loops; what a write, a read and the check are is a `Store` (`databases.SqlStore`,
`caches.RedisStore`). Each number is tried once: after a failure the next attempt uses the next number,
so an answer that was lost can never be mistaken for a later, acknowledged one.

Load is bounded: one write every `interval` seconds, one read every `interval` seconds, until `stop`.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import Any, Protocol

from scaleplane.drills.engine import probes, running


class Clock(running.Clock, Protocol):
    """The engine's clock (`now`), and a sleep: the probes' loops wait on it between attempts."""

    def sleep(self, seconds: float) -> None: ...


class Store(Protocol):
    """One connection per loop: `connect(kind)` returns a handle; `write`/`read` answer (value, served_by)
    or raise one of `errors`; `check()` returns every number found after recovery."""

    errors: tuple[type[BaseException], ...]

    def prepare(self) -> None: ...

    def connect(self, kind: str) -> Any: ...

    def write(self, handle: Any, seq: int) -> str: ...

    def read(self, handle: Any) -> tuple[int, str]: ...

    def close(self, handle: Any) -> None: ...

    def check(self) -> frozenset[int]: ...


class Probe:
    def __init__(self, store: Store, clock: Clock, *, interval: float = 0.02) -> None:
        self.store = store
        self.clock = clock
        self.interval = interval
        self._attempts: list[probes.Attempt] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._surviving: frozenset[int] = frozenset()
        self._checked = False

    def create_table(self) -> None:
        self.store.prepare()

    def start(self, kinds: tuple[str, ...] = ("write", "read")) -> None:
        self._stop.clear()
        for kind in kinds:
            thread = threading.Thread(
                target=self._loop, args=(kind,), name=f"drill-probe-{kind}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop both loops; a writer blocked in a commit is left to finish on its own (a daemon thread)."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout)
        self._threads = []

    def _record(self, attempt: probes.Attempt) -> None:
        with self._lock:
            self._attempts.append(attempt)

    def _once(self, kind: str, handle: Any, seq: int) -> tuple[int, str]:
        if kind == "write":
            return seq, self.store.write(handle, seq)
        return self.store.read(handle)

    def _loop(self, kind: str) -> None:
        handle: Any = None
        seq = 0
        close: Callable[[Any], None] = self.store.close
        try:
            while not self._stop.is_set():
                seq += 1
                started = self.clock.now()
                try:
                    if handle is None:
                        handle = self.store.connect(kind)
                    value, served_by = self._once(kind, handle, seq)
                    self._record(probes.Attempt(kind, started, self.clock.now(), True, value, served_by))
                except self.store.errors as error:
                    number = seq if kind == "write" else None
                    self._record(
                        probes.Attempt(kind, started, self.clock.now(), False, number, "", _short(error))
                    )
                    if handle is not None:
                        with contextlib.suppress(Exception):
                            close(handle)
                    handle = None
                self.clock.sleep(self.interval)
        finally:
            if handle is not None:
                with contextlib.suppress(Exception):
                    close(handle)

    def check(self) -> frozenset[int]:
        """Read every number back from the current primary (after recovery): the data check."""
        self._surviving = self.store.check()
        self._checked = True
        return self._surviving

    def log(self) -> probes.ProbeLog:
        with self._lock:
            attempts = tuple(self._attempts)
        return probes.ProbeLog(attempts, self._surviving, self._checked)

    def count(self, kind: str, *, ok: bool, since: float) -> int:
        with self._lock:
            return sum(a.kind == kind and a.ok == ok and a.started >= since for a in self._attempts)


def _short(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}"[:200]
