"""Files generated from the code and checked in: whether the copies on disk are what the code makes now.

Rule: imports nothing of scaleplane, so every layer may use it; its only I/O is the files it is given.
The CRDs (`scaleplane operator crds`), the RBAC (`operator rbac --check`), and the dashboards and rule
files (`observability generate`) are each rendered as {relative name: text}; CI and the tests check
them with `drift`, and the commands write them with `write`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path


def holds(path: Path, text: str) -> bool:
    """Whether `path` is a file holding exactly `text`."""
    try:
        return path.is_file() and path.read_text() == text
    except UnicodeDecodeError:  # not even text: it differs, which is no reason to crash
        return False


def drift(directory: Path, files: Mapping[str, str]) -> list[str]:
    """The names in `files` that are missing under `directory` or differ from their text; [] when up to
    date."""
    return [name for name, text in files.items() if not holds(directory / name, text)]


def write(directory: Path, files: Mapping[str, str]) -> list[Path]:
    """Write each of `files` under `directory` (its folders made as needed) and return their paths; a
    file that already holds its text is left as it is, so its modification time says when it changed."""
    written = []
    for name, text in files.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if not holds(path, text):
            path.write_text(text)
        written.append(path)
    return written
