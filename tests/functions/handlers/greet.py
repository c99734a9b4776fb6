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
