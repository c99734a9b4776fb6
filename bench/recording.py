"""Record a benchmark's table in docs/benchmarks.md, in its own section, replacing the previous run.

Every bench script ends with `recording.record("name", "## Title", body_markdown)`: the section between
`<!-- bench:name -->` markers is rewritten (or appended), with the machine and the command that made it,
so several scripts share the page without stepping on each other.
"""

from __future__ import annotations

import datetime
import os
import platform
import re
import sys
from pathlib import Path

PAGE = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, {platform.system()}"


def record(name: str, title: str, body: str, *, command: str | None = None) -> None:
    command = command or "uv run python " + " ".join(sys.argv)
    today = datetime.date.today().isoformat()
    section = (
        f"<!-- bench:{name} -->\n{title}\n\n"
        f"Command: `{command}`  \nMachine: {machine()}  \nDate: {today}\n\n{body.strip()}\n"
        f"<!-- /bench:{name} -->\n"
    )
    text = PAGE.read_text() if PAGE.exists() else "# Benchmarks\n\n"
    pattern = re.compile(rf"<!-- bench:{re.escape(name)} -->.*?<!-- /bench:{re.escape(name)} -->\n", re.S)
    text = (
        pattern.sub(lambda _: section, text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + section
    )
    PAGE.write_text(text)
