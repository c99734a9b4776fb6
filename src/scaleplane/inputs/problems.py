"""pydantic's validation errors turned into one line per root cause: field path, value and the fix.

Two things pydantic's own messages lack. The fix: an unknown key names the close known one and lists
the others; a string where a number belongs says to drop the quotes. And no cascade: a list that is
"too short" only because its one item failed, or a union's second branch, is a consequence of an error
already reported and is left out.
"""

from __future__ import annotations

import datetime
import difflib
import types
import typing
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel

INT32_MAX = 2**31 - 1  # Kubernetes counts and seconds are int32 (the CRD's `format: int32`)
TYPE_NAMES = {
    "int_type": "an integer",
    "int_from_float": "an integer",
    "int_parsing": "an integer",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "string_type": "a string",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "tuple_type": "a list",
    "list_type": "a list",
}


def strict_validate(model: type[BaseModel], data: Any) -> Any:
    """Validate `data` as the Kubernetes API would: JSON types, no string-to-number or bool-to-int coercion.

    pydantic's strict mode, with YAML's lists handed over as tuples (the models' sequences are tuples,
    and strict mode takes a tuple only as a tuple). YAML dates arrive as text, as a YAML-to-JSON
    conversion (kubectl's) makes them.
    """
    return model.model_validate(_as_json_shapes(data), strict=True)


def _as_json_shapes(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return tuple(_as_json_shapes(item) for item in value)
    if isinstance(value, dict):
        return {key: _as_json_shapes(item) for key, item in value.items()}
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def join(root: str, loc: Sequence[int | str], sep: str = ".") -> str:
    path = root
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f"{sep if path else ''}{part}"
    return path


def root_causes(errors: list[Any]) -> list[Any]:
    """The errors that are not consequences of another one (see the module docstring)."""
    kept: list[Any] = []
    for err in errors:
        loc = tuple(err["loc"])
        if err["type"] == "too_short" and any(
            other is not err and tuple(other["loc"])[: len(loc)] == loc for other in errors
        ):
            continue
        if any(tuple(k["loc"]) == loc for k in kept):  # the same field again (a union's other branch)
            continue
        kept.append(err)
    return kept


def message(err: Any, model: type[BaseModel] | None = None) -> str:
    """What is wrong with the field, and how to fix it; the caller prefixes the path (and the value)."""
    kind = err["type"]
    ctx = err.get("ctx") or {}
    value = err.get("input")
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return unknown_key(str(err["loc"][-1]), known_keys(model, err["loc"][:-1]) if model else [])
    if kind in TYPE_NAMES:
        wanted = TYPE_NAMES[kind]
        fix = ""
        if isinstance(value, str) and wanted in ("an integer", "a number") and _numeric(value):
            fix = f" (write {value} without quotes)"
        elif isinstance(value, bool) and wanted in ("an integer", "a number"):
            fix = " (true/false is not a number)"
        return f"must be {wanted}, was {describe_value(value)}{fix}"
    if kind == "too_short":
        return f"must have at least {ctx['min_length']} item(s), was {describe_value(value)}"
    if kind == "literal_error":
        return f"must be {ctx.get('expected')}, was {describe_value(value)}"
    bounds = _bounds(ctx)
    if bounds:
        return f"{bounds}, was {describe_value(value)}"
    text = str(err["msg"]).removeprefix("Value error, ")
    if not err["loc"] or isinstance(value, dict):  # a rule across fields: its message carries the values
        return text
    return f"{text}, was {describe_value(value)}"


def unknown_key(key: str, known: Sequence[str]) -> str:
    """`unknown key (did you mean 'metadata'? known: apiVersion, kind, metadata, spec)`."""
    if not known:
        return "unknown key"
    close = difflib.get_close_matches(key, known, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"unknown key ({hint}known: {', '.join(known)})"


def describe_value(value: Any) -> str:
    text = repr(_as_lists(value))
    return text if len(text) <= 80 else text[:77] + "..."


def _as_lists(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_as_lists(item) for item in value]
    if isinstance(value, dict):
        return {key: _as_lists(item) for key, item in value.items()}
    return value


def known_keys(model: type[BaseModel] | None, loc: Sequence[int | str]) -> list[str]:
    """The keys (camelCase aliases) the model accepts at `loc`, walking nested models and lists."""
    current: Any = model
    for part in loc:
        current = _model_in(current)
        if current is None or isinstance(part, int):
            continue
        field = _field(current, part)
        if field is None:
            return []
        current = field.annotation
    found = _model_in(current)
    if found is None:
        return []
    return [field.alias or name for name, field in found.model_fields.items()]


def over_int32(data: Any, loc: tuple[int | str, ...] = ()) -> tuple[tuple[int | str, ...], int] | None:
    """The first integer in `data` beyond int32 (Kubernetes' counts and seconds), with its location."""
    if isinstance(data, bool):
        return None
    if isinstance(data, int) and not -INT32_MAX - 1 <= data <= INT32_MAX:
        return loc, data
    items = data.items() if isinstance(data, dict) else enumerate(data) if isinstance(data, list) else ()
    for key, item in items:
        found = over_int32(item, (*loc, key))
        if found:
            return found
    return None


def _field(model: type[BaseModel], key: str) -> Any:
    for name, field in model.model_fields.items():
        if key in (name, field.alias):
            return field
    return None


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The model inside `X`, `X | None`, `tuple[X, ...]`, `Annotated[X, ...]`."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin is None and not isinstance(annotation, types.UnionType):
        return None
    for arg in typing.get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _bounds(ctx: dict[str, Any]) -> str | None:
    """`must be >= 0`, `must be > 0`, `must be >= 0 and < 1` from pydantic's ge/gt/le/lt context."""
    parts = [
        f"{op} {ctx[key]}" for key, op in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<")) if key in ctx
    ]
    return f"must be {' and '.join(parts)}" if parts else None
