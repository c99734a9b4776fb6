"""YAML documents that remember where each field was written, so an error can name its line.

The loader resolves numbers as YAML 1.2 (and Kubernetes' YAML reader) do: `1e3` is a number, where
PyYAML's YAML 1.1 rules would make it the string "1e3" and a strict model would then refuse a number
the user wrote correctly.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import yaml


class DocumentError(ValueError):
    """Text that is not a YAML (or JSON) document: `source:line: not valid YAML: what`."""


class _Loader(yaml.SafeLoader):
    pass


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


@dataclass(frozen=True)
class Document:
    """One YAML document: its data, its 1-based index in the file, and where its fields are."""

    data: Any
    index: int
    node: yaml.Node

    def line_of(self, loc: Sequence[int | str]) -> int:
        """The 1-based line of the deepest field of `loc` the document has (its start if none)."""
        node, line = self.node, self.node.start_mark.line
        for part in loc:
            found = _child(node, part)
            if found is None:
                break
            line, node = found
        return line + 1


def load(text: str, source: str) -> list[Document]:
    """Every non-empty document of `text`; a syntax error or binary data raises DocumentError."""
    if "\x00" in text:
        raise DocumentError(f"{source}: not a text file (it holds NUL bytes)")
    loader = _Loader(text)
    found: list[Document] = []
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            data = loader.construct_document(node)
            if data is not None:
                found.append(Document(data, len(found) + 1, node))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{source}:{mark.line + 1}" if mark else source
        raise DocumentError(f"{where}: not valid YAML: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise DocumentError(f"{source}: not valid YAML: {exc}") from None
    except RecursionError:
        raise DocumentError(f"{source}: not valid YAML: nested too deeply") from None
    finally:
        loader.dispose()
    return found


def _child(node: yaml.Node, part: int | str) -> tuple[int, yaml.Node] | None:
    """The node under `part` and the line it is written on (a mapping entry's: its key's line)."""
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value == str(part):
                return key.start_mark.line, value
        return None
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
        item: yaml.Node = node.value[part]
        return item.start_mark.line, item
    return None
