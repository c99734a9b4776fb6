"""The route table: which functions exist and which of their instances are ready, from a directory.

    ROUTES_DIR/<namespace>/<name>.json    {"endpoints": [{"name": "hello-1", "url": "http://127.0.0.1:PORT"}]}

One file per function, written atomically by whoever runs the instances (the local platform's
FunctionPool writes exactly this shape; only ready instances are listed). A function exists while its
file does, with 0 endpoints when it is at zero. The gateway re-reads the files whose modification time
changed every `poll_seconds` (a stat per function: cheap next to a call), so an instance that became
ready is routed to within one poll.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)
NAME_PATTERN = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"


@dataclass(frozen=True, order=True)
class FunctionKey:
    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name}"


def route_file(routes_dir: Path, key: FunctionKey) -> Path:
    return routes_dir / key.namespace / f"{key.name}.json"


def write_endpoints(path: Path, endpoints: list[dict[str, str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".json.{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"endpoints": endpoints}, indent=1))
    tmp.replace(path)


class RouteDirectory:
    """Reads ROUTES_DIR; `scan()` returns the whole table and whether anything changed since last time."""

    def __init__(self, routes_dir: Path) -> None:
        self.routes_dir = routes_dir
        self._seen: dict[FunctionKey, tuple[int, list[str]]] = {}

    def scan(self) -> tuple[dict[FunctionKey, list[str]], bool]:
        found: dict[FunctionKey, tuple[int, list[str]]] = {}
        changed = False
        try:
            namespaces = [e for e in os.scandir(self.routes_dir) if e.is_dir()]
        except FileNotFoundError:
            namespaces = []
        for namespace in namespaces:
            for entry in os.scandir(namespace.path):
                if not entry.name.endswith(".json") or entry.name.count(".") != 1:
                    continue
                key = FunctionKey(namespace.name, entry.name.removesuffix(".json"))
                try:
                    mtime = entry.stat().st_mtime_ns
                except FileNotFoundError:
                    continue
                previous = self._seen.get(key)
                if previous is not None and previous[0] == mtime:
                    found[key] = previous
                    continue
                found[key] = (mtime, self._read(Path(entry.path)))
                changed = True
        if set(found) != set(self._seen):
            changed = True
        self._seen = found
        return {key: urls for key, (_, urls) in found.items()}, changed

    def _read(self, path: Path) -> list[str]:
        try:
            payload = json.loads(path.read_text())
            return [str(e["url"]) for e in payload.get("endpoints", [])]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("route file %s unreadable (%s): no instances until it is rewritten", path, exc)
            return []
