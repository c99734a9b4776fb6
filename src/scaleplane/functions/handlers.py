"""The handler contract: a plain Python function, called with the JSON parameters of a request.

    def main(name: str, times: int = 1) -> dict[str, str]:
        return {"greeting": " ".join([f"hello {name}"] * times)}

- Parameters are the keys of the request's JSON object (0..n of them), validated and converted by the
  handler's type hints (pydantic's `validate_call`): `{"times": "3"}` becomes 3, `{"times": "x"}` is a
  422 naming the parameter and the value. A handler without hints takes what JSON gives.
- The result is any value pydantic can turn into JSON: numbers, strings, lists, dicts, dataclasses,
  pydantic models, datetimes. A handler may be `async def`.
- `raise FunctionError("why", status=409)` answers that status with the message; any other exception is
  a 500 `HandlerFailed` with the exception's type and message (never a traceback to the caller).

A handler is named `FILE.py:FUNCTION` or `package.module:FUNCTION` (FUNCTION defaults to `main`).
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
import inspect
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pydantic
import pydantic_core

DEFAULT_FUNCTION = "main"


class FunctionError(Exception):
    """An error the handler means to return to its caller: `status` (4xx/5xx) and a message."""

    def __init__(self, message: str, *, status: int = 400, code: str = "FunctionError") -> None:
        super().__init__(message)
        if not 400 <= status <= 599:
            raise ValueError(f"FunctionError status must be 400..599, was {status}")
        self.message = message
        self.status = status
        self.code = code


class HandlerNotFound(ValueError):
    """The handler reference names no loadable function; the message says which part is wrong."""


@dataclass(frozen=True)
class Failure:
    """What a failed call answers: an HTTP status and a JSON error body."""

    status: int
    code: str
    message: str

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message}}


@dataclass(frozen=True)
class Handler:
    reference: str
    function: Callable[..., Any]
    is_async: bool = False

    async def call(self, params: Any) -> Any:
        """Run the handler on a request's parameters; raise FunctionError (or return its Failure)."""
        if not isinstance(params, dict):
            raise FunctionError(
                f"parameters must be a JSON object, was {type(params).__name__}",
                status=400,
                code="BadRequest",
            )
        try:
            if self.is_async:
                return await self.function(**params)
            # A plain `def` runs in a thread, so a slow handler does not stop the server answering
            # health checks and other calls (the runtime's concurrency is the thread pool's).
            return await asyncio.to_thread(self.function, **params)
        except pydantic.ValidationError as exc:
            raise FunctionError(_validation_message(exc), status=422, code="InvalidParameters") from None


def to_json(value: Any) -> Any:
    """A handler's result as plain JSON values (dataclasses, models and datetimes included)."""
    return pydantic_core.to_jsonable_python(value)


def failure_of(error: BaseException) -> Failure:
    if isinstance(error, FunctionError):
        return Failure(error.status, error.code, error.message)
    return Failure(500, "HandlerFailed", f"{type(error).__name__}: {error}")


def load(reference: str) -> Handler:
    """`hello.py:main`, `pkg.module:main` or `hello.py` (main) -> a Handler that validates its inputs."""
    target, _, attribute = reference.partition(":")
    attribute = attribute or DEFAULT_FUNCTION
    if not target:
        raise HandlerNotFound(f"handler {reference!r}: give FILE.py[:FUNCTION] or MODULE[:FUNCTION]")
    module = _load_file(Path(target)) if target.endswith(".py") else _load_module(target)
    function = getattr(module, attribute, None)
    if not callable(function):
        raise HandlerNotFound(f"handler {reference!r}: {target} has no function {attribute!r}")
    return Handler(reference, _validating(function), inspect.iscoroutinefunction(function))


def _load_file(path: Path) -> Any:
    if not path.is_file():
        raise HandlerNotFound(f"handler file {path} does not exist")
    name = f"scaleplane_function_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise HandlerNotFound(f"handler file {path} cannot be loaded as Python")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    sys.path.insert(0, str(path.resolve().parent))  # a handler may import its neighbours
    spec.loader.exec_module(module)
    return module


def _load_module(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        raise HandlerNotFound(f"handler module {name!r} cannot be imported: {exc}") from None


def _validating(function: Callable[..., Any]) -> Callable[..., Any]:
    # validate_call checks unknown and missing parameters too, whether or not the handler has hints.
    validated: Callable[..., Any] = pydantic.validate_call(
        config=pydantic.ConfigDict(arbitrary_types_allowed=True)
    )(function)
    return validated


def _validation_message(exc: pydantic.ValidationError) -> str:
    problems = []
    for err in exc.errors():
        where = ".".join(str(part) for part in err["loc"]) or "parameters"
        if err["type"] == "missing_argument":
            problems.append(f"{where}: is required")
        elif err["type"] == "unexpected_keyword_argument":
            problems.append(f"{where}: is not a parameter of this function")
        else:
            problems.append(f"{where}: {err['msg']}, was {err.get('input')!r}")
    return "; ".join(problems)
