"""Turn a pydantic model's JSON schema into a Kubernetes *structural* OpenAPI v3 schema.

The API server accepts only structural schemas (apiextensions.k8s.io/v1): every node has a `type`, no
`$ref`, no `title`, no `additionalProperties` next to `properties`, `nullable` instead of `anyOf` with
`null`, OpenAPI 3.0's boolean `exclusiveMinimum` instead of JSON Schema's number. This module is that
translation, and nothing else: the rules that cross fields (max >= min, unique names) come from the
CRD builder as CEL `x-kubernetes-validations`.
"""

from __future__ import annotations

import copy
from typing import Any

from pydantic import BaseModel

# JSON-Schema keys with no meaning (or no permission) in a structural schema.
DROPPED = {"title", "$defs", "examples", "discriminator", "prefixItems"}


def structural(model: type[BaseModel], *, validations: dict[str, list[dict[str, str]]] | None = None) -> Any:
    """The model's schema (by alias), structural, with CEL rules attached to the named definitions.

    `validations` maps a model's class name (a `$defs` entry, or the root model's name) to its rules.
    """
    raw = model.model_json_schema(by_alias=True, mode="validation")
    definitions = raw.get("$defs", {})
    rules = validations or {}
    return _convert(raw, definitions, rules, name=model.__name__)


def _convert(node: Any, definitions: dict[str, Any], rules: dict[str, Any], name: str | None = None) -> Any:
    if not isinstance(node, dict):
        return node
    node = copy.deepcopy(node)
    if "$ref" in node:
        ref_name = node.pop("$ref").rsplit("/", 1)[-1]
        merged = {**definitions[ref_name], **node}
        return _convert(merged, definitions, rules, name=ref_name)
    nullable = False
    for combinator in ("anyOf", "oneOf"):
        options = node.get(combinator)
        if options:
            kept = [option for option in options if option.get("type") != "null"]
            if len(kept) == 1:
                nullable = len(kept) < len(options)
                del node[combinator]
                inner = _convert(kept[0], definitions, rules)
                node = {**inner, **{k: v for k, v in node.items() if k != "default" or v is not None}}
    result: dict[str, Any] = {}
    for key, value in node.items():
        if key in DROPPED or (key == "default" and value is None):
            continue
        if key == "properties":
            result[key] = {prop: _convert(sub, definitions, rules) for prop, sub in value.items()}
        elif key == "items":
            result[key] = _convert(value, definitions, rules)
        elif key == "additionalProperties":
            if "properties" not in node and isinstance(value, dict):
                result[key] = _convert(value, definitions, rules)
        elif key == "const":
            result["enum"] = [value]
        elif key in ("exclusiveMinimum", "exclusiveMaximum") and not isinstance(value, bool):
            bound = "minimum" if key == "exclusiveMinimum" else "maximum"
            result[bound] = value
            result[key] = True
        else:
            result[key] = _convert(value, definitions, rules) if isinstance(value, dict) else value
    if nullable:
        result["nullable"] = True
    if name is not None and name in rules:
        result["x-kubernetes-validations"] = rules[name]
    if "type" not in result and "properties" in result:
        result["type"] = "object"
    return result


def missing_types(schema: Any, path: str = "") -> list[str]:
    """Paths of nodes without a `type`: a structural schema has none (used by the tests and the CLI)."""
    problems: list[str] = []
    if not isinstance(schema, dict):
        return problems
    # An int-or-string node (a quantity) has no type, by its definition.
    untyped = schema.get("x-kubernetes-preserve-unknown-fields") or schema.get("x-kubernetes-int-or-string")
    if "type" not in schema and not untyped:
        problems.append(path or "<root>")
    for prop, sub in (schema.get("properties") or {}).items():
        problems += missing_types(sub, f"{path}.{prop}")
    if isinstance(schema.get("items"), dict):
        problems += missing_types(schema["items"], f"{path}[]")
    return problems
