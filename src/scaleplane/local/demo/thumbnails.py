"""The demo's function, `demo/thumbnail`: the handler its instances host (policies/functions.yaml).

It stands for a call that waits on something else (an image store, a model) more than it computes:
it sleeps `work_seconds` and returns the size it would have produced, so on two cores the instances
cost memory and little CPU, and the number of calls in flight, which the policy scales on, is simply
the call rate times `work_seconds`.
"""

from __future__ import annotations

import dataclasses
import time

from scaleplane.functions.handlers import FunctionError

MAX_WORK_SECONDS = 10.0


@dataclasses.dataclass
class Thumbnail:
    width: int
    height: int
    took_seconds: float


def thumbnail(width: int, height: int, box: int = 128, work_seconds: float = 0.5) -> Thumbnail:
    """The size of `width` x `height` fitted into a `box` square, after `work_seconds` of waiting."""
    if width <= 0 or height <= 0 or box <= 0:
        raise FunctionError(f"sizes must be > 0, were {width}x{height} into {box}", status=422)
    if not 0 <= work_seconds <= MAX_WORK_SECONDS:
        raise FunctionError(f"work_seconds must be 0..{MAX_WORK_SECONDS:g}, was {work_seconds}", status=422)
    started = time.monotonic()
    time.sleep(work_seconds)
    scale = min(1.0, box / max(width, height))
    return Thumbnail(
        max(1, round(width * scale)), max(1, round(height * scale)), round(time.monotonic() - started, 3)
    )
