"""The local test harness behind `scaleplane fn test`: run a handler in-process on mock cases.

A mock file is a JSON list of cases:

    [{"params": {"name": "Ada"}, "expect": {"greeting": "hello Ada"}},
     {"params": {"name": ""}, "expectError": "EmptyName"}]

Each case calls the handler as the runtime would (same validation, same JSON conversion of the
result, same error codes), so a case that passes here behaves the same behind the gateway. A case
without `expect` or `expectError` passes when the call does not fail, and shows the result.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scaleplane.functions import handlers


class CaseError(ValueError):
    pass


@dataclass(frozen=True)
class Case:
    data: dict[str, Any]
    number: int


@dataclass(frozen=True)
class Result:
    case: Case
    passed: bool
    detail: str

    def line(self) -> str:
        return f"{'PASS' if self.passed else 'FAIL'} case {self.case.number}: {self.detail}"


def load_cases(path: Path) -> list[Case]:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise CaseError(f"{path}: no such file (give --mock FILE or --params JSON)") from None
    except ValueError as exc:
        raise CaseError(f"{path}: not JSON: {exc}") from None
    if not isinstance(data, list) or not data:
        raise CaseError(f"{path}: must be a non-empty JSON list of cases, was {type(data).__name__}")
    for index, case in enumerate(data):
        if not isinstance(case, dict) or not isinstance(case.get("params", {}), dict):
            raise CaseError(
                f"{path}: case {index + 1}: must be an object with `params` an object, was {case!r}"
            )
    return [Case(case, index + 1) for index, case in enumerate(data)]


def run(reference: str, cases: list[Case]) -> list[Result]:
    handler = handlers.load(reference)
    return [asyncio.run(_one(handler, case)) for case in cases]


async def _one(handler: handlers.Handler, case: Case) -> Result:
    params = case.data.get("params", {})
    try:
        value = handlers.to_json(await handler.call(params))
    except Exception as exc:
        failure = handlers.failure_of(exc)
        expected = case.data.get("expectError")
        if expected is not None:
            ok = expected == failure.code
            return Result(case, ok, f"{params} -> {failure.status} {failure.code}: {failure.message}"
                          + ("" if ok else f" (expected error {expected})"))  # fmt: skip
        return Result(case, False, f"{params} -> {failure.status} {failure.code}: {failure.message}")
    if "expectError" in case.data:
        return Result(
            case, False, f"{params} -> {json.dumps(value)} (expected error {case.data['expectError']})"
        )
    if "expect" in case.data and case.data["expect"] != value:
        return Result(
            case, False, f"{params} -> {json.dumps(value)} (expected {json.dumps(case.data['expect'])})"
        )
    return Result(case, True, f"{params} -> {json.dumps(value)}")
