"""The catalog of functions and their versions on one machine, in Redis (the seed's choice).

    scaleplane:catalog:functions            set of "namespace/name"
    scaleplane:catalog:fn:<ns>/<name>       hash: current (version number), updated
    scaleplane:catalog:versions:<ns>/<name> hash: version number -> JSON {version, spec, file, source,
                                            deployedAt, note}
    scaleplane:catalog:revision             counter, bumped by every change (the platform polls it)

A deploy stores the handler's source with its settings as a new version and makes it current; a
rollback makes an earlier version current again (the one before by default) without deleting any;
delete removes the function and its versions. Every write is one MULTI/EXEC transaction, so a
reader never sees a current version without its record. In a cluster the catalog is the Function
resources themselves (docs/functions.md); this module is the single-machine home.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any, cast

import redis

from scaleplane.functions import routes
from scaleplane.functions.authoring import definitions

PREFIX = "scaleplane:catalog"
REVISION = f"{PREFIX}:revision"
FUNCTIONS = f"{PREFIX}:functions"


class CatalogError(ValueError):
    """A request the catalog refuses (unknown function, no such version); the message says which."""


@dataclass(frozen=True)
class Version:
    key: routes.FunctionKey
    version: int
    spec: definitions.LocalFunctionSpec
    file: str  # the handler file's name, e.g. handler.py
    source: str  # its text
    deployed_at: float
    note: str = ""
    generation: dict[str, Any] | None = None  # a generated function's prompt, answer and test results

    def to_json(self) -> str:
        return json.dumps({
            "version": self.version, "spec": self.spec.model_dump(by_alias=True), "file": self.file,
            "source": self.source, "deployedAt": self.deployed_at, "note": self.note,
            "generation": self.generation,
        })  # fmt: skip

    @classmethod
    def from_json(cls, key: routes.FunctionKey, text: str | bytes) -> Version:
        data = json.loads(text)
        spec = definitions.LocalFunctionSpec.model_validate(data["spec"])
        return cls(
            key,
            int(data["version"]),
            spec,
            data["file"],
            data["source"],
            float(data["deployedAt"]),
            data.get("note", ""),
            data.get("generation"),
        )


def parse_key(text: str) -> routes.FunctionKey:
    namespace, slash, name = text.partition("/")
    if not slash or not namespace or not name:
        raise CatalogError(f"a function is named 'namespace/name', was {text!r}")
    return routes.FunctionKey(namespace, name)


class Catalog:
    def __init__(self, url: str) -> None:
        self.redis = redis.Redis.from_url(url)

    def _fn(self, key: routes.FunctionKey) -> str:
        return f"{PREFIX}:fn:{key}"

    def _versions(self, key: routes.FunctionKey) -> str:
        return f"{PREFIX}:versions:{key}"

    def revision(self) -> int:
        return int(self.redis.get(REVISION) or 0)

    def deploy(
        self,
        key: routes.FunctionKey,
        spec: definitions.LocalFunctionSpec,
        file: str,
        source: str,
        note: str = "",
        generation: dict[str, Any] | None = None,
    ) -> Version:
        number = int(self.redis.hincrby(self._fn(key), "last", 1))
        version = Version(key, number, spec, file, source, time.time(), note, generation)
        with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(self._versions(key), str(number), version.to_json())
            pipe.hset(self._fn(key), mapping={"current": number, "updated": version.deployed_at})
            pipe.sadd(FUNCTIONS, str(key))
            pipe.incr(REVISION)
            pipe.execute()
        return version

    def current(self, key: routes.FunctionKey) -> Version:
        number = self.redis.hget(self._fn(key), "current")
        if number is None:
            raise CatalogError(f"no function {key} in the catalog (deploy it with `scaleplane fn deploy`)")
        return self.version(key, int(number))

    def version(self, key: routes.FunctionKey, number: int) -> Version:
        text = self.redis.hget(self._versions(key), str(number))
        if text is None:
            known = ", ".join(map(str, self.numbers(key))) or "none"
            raise CatalogError(f"{key} has no version {number} (versions: {known})")
        return Version.from_json(key, cast(bytes, text))

    def numbers(self, key: routes.FunctionKey) -> list[int]:
        return sorted(int(n) for n in cast(list[bytes], self.redis.hkeys(self._versions(key))))

    def functions(self) -> list[routes.FunctionKey]:
        return sorted(parse_key(m.decode()) for m in cast(set[bytes], self.redis.smembers(FUNCTIONS)))

    def listing(self) -> list[dict[str, Any]]:
        found = []
        for key in self.functions():
            current = self.current(key)
            found.append({"function": str(key), "current": current.version, "versions": self.numbers(key),
                          "deployedAt": current.deployed_at, "handler": current.file})  # fmt: skip
        return found

    def rollback(self, key: routes.FunctionKey, to: int | None = None) -> Version:
        current = self.current(key)
        earlier = [n for n in self.numbers(key) if n < current.version]
        if to is None:
            if not earlier:
                raise CatalogError(
                    f"{key} is at its first version ({current.version}): nothing to roll back to"
                )
            to = earlier[-1]
        target = self.version(key, to)
        with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(self._fn(key), mapping={"current": to, "updated": time.time()})
            pipe.incr(REVISION)
            pipe.execute()
        return target

    def delete(self, key: routes.FunctionKey) -> None:
        if not self.redis.sismember(FUNCTIONS, str(key)):
            raise CatalogError(f"no function {key} in the catalog")
        with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(self._fn(key), self._versions(key))
            pipe.srem(FUNCTIONS, str(key))
            pipe.incr(REVISION)
            pipe.execute()

    def close(self) -> None:
        self.redis.close()
