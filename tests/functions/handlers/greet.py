"""Handlers the function tests host (a real runtime process loads this file)."""

import asyncio
import dataclasses
import os
import time

from scaleplane.functions.handlers import FunctionError


@dataclasses.dataclass
class Greeting:
    text: str
    pid: int


def main(name: str, times: int = 1) -> Greeting:
    return Greeting(" ".join([f"hello {name}"] * times), os.getpid())


def slow(seconds: float = 0.5) -> dict[str, int]:
    time.sleep(seconds)
    return {"pid": os.getpid()}


async def slow_async(seconds: float = 0.5) -> dict[str, int]:
    await asyncio.sleep(seconds)
    return {"pid": os.getpid()}


def conflict(item: str) -> None:
    raise FunctionError(f"{item} already exists", status=409, code="Conflict")


def broken() -> None:
    raise RuntimeError("the disk is on fire")


def record(tag: str, runs: str, seconds: float = 0.0, hold: str = "") -> dict[str, str]:
    """Append `tag` to the file `runs` as the call starts (one line per run), then work `seconds`, or
    with `hold`, until that file exists (at most `seconds`)."""
    with open(runs, "a") as out:  # one short append per run: O_APPEND keeps lines whole
        out.write(f"{tag}\n")
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not (hold and os.path.exists(hold)):
        time.sleep(0.02)
    return {"tag": tag}
