"""Environment variables set for as long as a runner lives, for runners that end in any order.

Operators under test read their settings from `os.environ`, in their own threads, at times of their
choosing, so each keeps its variables set for its whole run. Two running at once overlap, and they do
not always end last-in first-out (a drill kills the leader first). Restoring "the value saved on
entry" then puts back the other runner's value after both ended: a leak that gave every later operator
the drill's `SCALEPLANE_IDENTITY`, so two of them each thought they held the Lease. Here each run is a
layer; when one ends, every key it set goes back to the newest remaining layer's value, or to what the
process had before any layer.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator

_lock = threading.Lock()
_layers: list[dict[str, str]] = []
_before: dict[str, str | None] = {}  # each layered key's value before the first layer that set it


@contextlib.contextmanager
def layered(values: dict[str, str]) -> Iterator[None]:
    """`values` in `os.environ` until the block ends, whatever other layers begin or end meanwhile."""
    layer = dict(values)
    with _lock:
        for key in layer:
            _before.setdefault(key, os.environ.get(key))
        _layers.append(layer)
        os.environ.update(layer)
    try:
        yield
    finally:
        with _lock:
            _layers.remove(layer)
            for key in layer:
                _restore(key)


def _restore(key: str) -> None:
    for layer in reversed(_layers):
        if key in layer:
            os.environ[key] = layer[key]
            return
    old = _before.pop(key)
    if old is None:
        os.environ.pop(key, None)
    else:
        os.environ[key] = old
