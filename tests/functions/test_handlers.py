"""The handler contract: typed parameters, results as JSON, errors the caller can read."""

from __future__ import annotations

import dataclasses
import datetime
from pathlib import Path

import pytest

from scaleplane.functions import handlers

GREET = Path(__file__).parent / "handlers" / "greet.py"


async def test_parameters_are_converted_by_the_type_hints() -> None:
    handler = handlers.load(f"{GREET}:main")
    result = handlers.to_json(await handler.call({"name": "Ada", "times": "2"}))
    assert result["text"] == "hello Ada hello Ada"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"times": 2}, "name: is required"),
        (
            {"name": "Ada", "times": "x"},
            "times: Input should be a valid integer, unable to parse string as an integer, was 'x'",
        ),
        ({"name": "Ada", "colour": "red"}, "colour: is not a parameter of this function"),
    ],
)
async def test_bad_parameters_are_a_422_naming_the_parameter(params: dict[str, object], message: str) -> None:
    handler = handlers.load(f"{GREET}:main")
    with pytest.raises(handlers.FunctionError) as caught:
        await handler.call(params)
    assert (caught.value.status, caught.value.code, caught.value.message) == (
        422,
        "InvalidParameters",
        message,
    )


async def test_parameters_must_be_an_object() -> None:
    with pytest.raises(handlers.FunctionError, match="must be a JSON object, was list"):
        await handlers.load(f"{GREET}:main").call([1, 2])


async def test_a_function_error_keeps_its_status_and_other_errors_are_500() -> None:
    with pytest.raises(handlers.FunctionError) as caught:
        await handlers.load(f"{GREET}:conflict").call({"item": "x"})
    assert handlers.failure_of(caught.value) == handlers.Failure(409, "Conflict", "x already exists")
    with pytest.raises(RuntimeError) as broken:
        await handlers.load(f"{GREET}:broken").call({})
    assert handlers.failure_of(broken.value).body() == {
        "error": {"code": "HandlerFailed", "message": "RuntimeError: the disk is on fire"}
    }


async def test_async_handlers_are_awaited() -> None:
    assert (await handlers.load(f"{GREET}:slow_async").call({"seconds": 0}))["pid"] > 0


def test_results_become_json() -> None:
    @dataclasses.dataclass
    class Point:
        x: int
        at: datetime.date

    assert handlers.to_json([Point(1, datetime.date(2026, 12, 1))]) == [{"x": 1, "at": "2026-12-01"}]


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        ("nowhere.py", "handler file nowhere.py does not exist"),
        (f"{GREET}:absent", "has no function 'absent'"),
        ("no_such_module_here:main", "handler module 'no_such_module_here' cannot be imported"),
    ],
)
def test_a_bad_reference_says_what_is_wrong(reference: str, message: str) -> None:
    with pytest.raises(handlers.HandlerNotFound, match=message):
        handlers.load(reference)


def test_a_function_error_status_is_checked() -> None:
    with pytest.raises(ValueError, match=r"400\.\.599, was 200"):
        handlers.FunctionError("fine", status=200)
