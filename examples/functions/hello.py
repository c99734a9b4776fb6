"""A function: typed parameters in, a JSON-able value out (see docs/functions.md).

uv run scaleplane fn test examples/functions/hello.py --params '{"name": "Ada"}'
"""

from __future__ import annotations

import dataclasses
import time

from scaleplane.functions.handlers import FunctionError


@dataclasses.dataclass
class Greeting:
    text: str
    took_seconds: float


def main(name: str, times: int = 1, work_seconds: float = 0.0) -> Greeting:
    if not name.strip():
        raise FunctionError("name must not be blank", status=422, code="BlankName")
    started = time.monotonic()
    time.sleep(work_seconds)  # stands for real work (a call to a model, an image resize, ...)
    return Greeting(" ".join([f"hello {name}"] * times), round(time.monotonic() - started, 3))
