"""The cache probe's store: numbered writes to Redis through a Sentinel-aware client (redis-py's
`Sentinel`), which asks the sentinels where the primary is after every reconnect.

A write is acknowledged only when `RPUSH` answered *and* `WAIT 1` says a replica has it: Redis replicates
asynchronously, so an `OK` from the primary alone promises nothing once that primary dies. This is what
an application that cares about a cache write does; one that does not would see RPO > 0 here.
"""

from __future__ import annotations

from typing import Any

import redis
from redis.sentinel import Sentinel

KEY = "scaleplane:drill:probe"
SERVICE = "scaleplane"


class NotReplicated(redis.RedisError):
    """The primary took the write but no replica confirmed it within the WAIT timeout."""


class RedisStore:
    errors: tuple[type[BaseException], ...] = (redis.RedisError, OSError)

    def __init__(
        self, sentinels: list[tuple[str, int]], *, service: str = SERVICE, timeout: float = 0.5
    ) -> None:
        # redis-py's sentinel module is untyped: the clients it hands out are plain redis.Redis
        self.sentinel: Any = Sentinel(sentinels, socket_timeout=timeout, socket_connect_timeout=timeout)  # type: ignore[no-untyped-call]
        self.service = service
        self.timeout = timeout

    def _client(self, kind: str) -> Any:
        find = self.sentinel.master_for if kind == "write" else self.sentinel.slave_for
        return find(self.service, socket_timeout=self.timeout, retry_on_timeout=False)

    def prepare(self) -> None:
        self._client("write").delete(KEY)

    def connect(self, kind: str) -> Any:
        return self._client(kind)

    def write(self, handle: Any, seq: int) -> str:
        handle.rpush(KEY, seq)
        replicas = int(handle.execute_command("WAIT", 1, 200))
        if replicas < 1:
            raise NotReplicated(f"write {seq}: no replica confirmed it within 200 ms")
        port = handle.connection_pool.connection_kwargs.get("port", "")
        return str(port)

    def read(self, handle: Any) -> tuple[int, str]:
        return int(handle.llen(KEY)), "replica"

    def close(self, handle: Any) -> None:
        handle.close()

    def check(self) -> frozenset[int]:
        client = self._client("write")
        values: list[Any] = client.lrange(KEY, 0, -1)
        return frozenset(int(v) for v in values)
