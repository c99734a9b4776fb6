"""Stack files (`Pulumi.<stack>.yaml`) read strictly, before the program runs, with file and line.

Pulumi hands a program only the keys it asks for and fills the rest from Pulumi.yaml's defaults, so
a typo'd key, a missing `scaleplane:target` or an empty file would plan the defaults under the
stack's name. Here the file is read as the CLI would, every key is checked, and the config the
program will see is validated once with each problem pointed at its line
(`Pulumi.aws-dev.yaml:14: scaleplane:database.readReplicas: must be an integer, was '2'`).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from scaleplane.infra import config
from scaleplane.inputs import documents

PULUMI_KEYS = {"config", "secretsprovider", "encryptedkey", "encryptionsalt", "environment"}
_PROBLEM_PATH = re.compile(r"^(\w+:\w+)((?:\.\w+|\[\d+\])*):")


class PlanError(Exception):
    """The stack could not be planned; the message says why, without a traceback."""


def read_yaml(path: Path) -> tuple[dict[str, Any], documents.Document | None]:
    try:
        found = documents.load(path.read_text(), str(path))
    except (UnicodeDecodeError, documents.DocumentError) as exc:
        reason = exc if isinstance(exc, documents.DocumentError) else f"{path}: not a text file"
        raise PlanError(f"{reason}") from None
    except OSError as exc:
        raise PlanError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    if len(found) > 1:
        raise PlanError(f"{path}: holds {len(found)} YAML documents; a stack file is one")
    if not found:
        return {}, None
    if not isinstance(found[0].data, dict):
        raise PlanError(f"{path}: expected a mapping at the top")
    return found[0].data, found[0]


def _check_keys(path: Path, stack_values: dict[str, Any], document: documents.Document | None) -> None:
    """Refuse what Pulumi would let through silently: no target, or a key nothing reads."""
    if not stack_values:
        raise config.ConfigError(
            [
                f"{path}: has no config; set scaleplane:target (aws or kubernetes) at least, or every key "
                "takes Pulumi.yaml's default whatever the stack's name says"
            ]
        )
    unknown = config.unknown_keys([str(key) for key in stack_values])
    if unknown:
        key, problem = unknown[0]
        line = f":{document.line_of(('config', key))}" if document else ""
        raise config.ConfigError([f"{path}{line}: {problem}"])
    if f"{config.NAMESPACE}:target" not in stack_values:
        raise config.ConfigError([f"{path}: scaleplane:target is not set; set it to aws or kubernetes"])


def read_stack(path: Path, defaults: dict[str, Any]) -> dict[str, Any]:
    """The stack file's `config` map, checked: its keys, its target, and its values over `defaults`."""
    top, document = read_yaml(path)
    unknown_top = sorted(set(top) - PULUMI_KEYS)
    if unknown_top:
        raise PlanError(
            f"{path}: {unknown_top[0]}: unknown key (a stack file holds config:, and Pulumi's own keys)"
        )
    stack_values = top.get("config") or {}
    if not isinstance(stack_values, dict):
        raise PlanError(f"{path}: 'config' must be a mapping")
    _check_keys(path, stack_values, document)
    merged = {**defaults, **stack_values}
    ours = {
        key.split(":", 1)[1]: (
            "mock-secret-value" if isinstance(value, dict) and set(value) == {"secure"} else value
        )
        for key, value in merged.items()
        if key.startswith(f"{config.NAMESPACE}:")
    }
    try:
        config.parse(ours)
    except config.ConfigError as exc:
        raise config.ConfigError([_at_line(path, document, problem) for problem in exc.problems]) from None
    return stack_values


def _at_line(path: Path, document: documents.Document | None, problem: str) -> str:
    """`FILE:LINE: problem` when the problem's key path is written in the file, else `FILE: problem`."""
    match = _PROBLEM_PATH.match(problem)
    if document is None or match is None:
        return f"{path}: {problem}"
    loc: list[int | str] = ["config", match.group(1)]
    for name, index in re.findall(r"\.(\w+)|\[(\d+)\]", match.group(2)):
        loc.append(int(index) if index else name)
    if match.group(1) not in document.data.get("config", {}):
        return f"{path}: {problem} (a default of Pulumi.yaml)"
    return f"{path}:{document.line_of(loc)}: {problem}"
