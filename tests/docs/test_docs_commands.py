"""Docs that run: every ```bash block of README.md and docs/*.md, on a fresh copy of the checkout.

The convention (docs/cli.md, "Commands in the docs"): a block fenced ```bash is run from the repository
root with `bash -e` (with uv on PATH) and must exit 0 within BLOCK_SECONDS; a block fenced
```bash no-run is shown, not run (a cloud, a cluster, root, long-running servers). FIGURES lists the
numbers the prose quotes about a command's result; each is compared with what the command prints now.

The copy holds the tracked files only (what a fresh clone has), so a doc naming a file nobody ships
fails here. Commands run against the project's .venv (UV_PROJECT_ENVIRONMENT, UV_NO_SYNC): the copy's
code is the same as the venv's, and a second virtualenv would cost a minute of installing.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
DOCS = sorted([REPO / "README.md", *(REPO / "docs").glob("*.md")])
FENCE = re.compile(r"^([ \t]*)```(\S*)([^\n]*)\n(.*?)^\1```[ \t]*$", re.S | re.M)
BLOCK_SECONDS = 180  # a block of several offline plans on a shared 2-core machine
UV_DIRS = [str(Path.home() / ".local" / "bin"), "/usr/local/bin"]


def blocks() -> list[tuple[str, int, str, str]]:
    """(doc, line, info string, body) of every fenced block whose language is bash or sh."""
    found = []
    for doc in DOCS:
        text = doc.read_text()
        for match in FENCE.finditer(text):
            language, rest, body = match.group(2), match.group(3), match.group(4)
            if language in ("bash", "sh", "shell", "console"):
                line = text.count("\n", 0, match.start()) + 1
                indent = match.group(1)
                body = "\n".join(row.removeprefix(indent) for row in body.splitlines())
                found.append((doc.relative_to(REPO).as_posix(), line, f"{language}{rest}".strip(), body))
    return found


RUNNABLE = [(f"{doc}:{line}", body) for doc, line, info, body in blocks() if "no-run" not in info]


def test_every_shell_block_is_bash_run_or_marked_no_run() -> None:
    wrong = [f"{doc}:{line} ```{info}" for doc, line, info, _ in blocks() if not info.startswith("bash")]
    assert not wrong, f"fence shell commands as ```bash or ```bash no-run: {wrong}"
    assert RUNNABLE, "no runnable block found: the extraction is broken"


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout.decode()
    root = tmp_path_factory.mktemp("checkout")
    for name in filter(None, listed.split("\0")):
        source = REPO / name
        if source.is_file():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, root / name)
    yield root


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([*UV_DIRS, env.get("PATH", "")])
    env["UV_PROJECT_ENVIRONMENT"] = str(REPO / ".venv")
    env["UV_NO_SYNC"] = "1"
    env["UV_FROZEN"] = "1"
    env.pop("VIRTUAL_ENV", None)
    return env


def run(checkout: Path, script: str, temp: Path | None = None) -> subprocess.CompletedProcess[str]:
    """`script` in the copy; with `temp`, the block's `mktemp` and tempfile folders go there (pytest
    removes them), not into /tmp where each run of the suite would leave one more."""
    env = _env() | ({"TMPDIR": str(temp)} if temp is not None else {})
    return subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", script],
        cwd=checkout,
        env=env,
        capture_output=True,
        text=True,
        timeout=BLOCK_SECONDS,
    )


@pytest.mark.slow
@pytest.mark.parametrize(("where", "script"), RUNNABLE, ids=[where for where, _ in RUNNABLE])
def test_the_block_runs(checkout: Path, where: str, script: str, tmp_path: Path) -> None:
    result = run(checkout, script, temp=tmp_path)
    assert result.returncode == 0, (
        f"{where} exited {result.returncode}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    )


def _planned_resources(checkout: Path) -> str:
    out = run(checkout, "uv run scaleplane plan --stack aws-prod --json").stdout
    return str(len(json.loads(out)["resources"]))


def _real_trace_against_the_hpa(checkout: Path) -> tuple[str, ...]:
    """(the HPA default's SLO minutes and replica-hours, the recommended preset's replica-hours and SLO
    minutes) on the Azure trace, as docs/simulate.md's frontier section quotes them."""
    script = "uv run scaleplane simulate --trace traces/azure-llm-conv-2023.csv --baseline hpa --json"
    result = json.loads(run(checkout, script).stdout)
    hpa = result["baseline"]
    return (
        f"{hpa['slo_violation_minutes']:g}",
        f"{hpa['replica_hours']:.2f}",
        f"{result['replica_hours']:.2f}",
        f"{result['slo_violation_minutes']:g}",
    )


def _sqrt_staffing_on_sparse(checkout: Path) -> tuple[str, ...]:
    """(its replica-hours and SLO minutes, the HPA default's) as docs/simulate.md quotes the example."""
    script = (
        "uv run scaleplane simulate --policy examples/sqrt-staffing.yaml --trace traces/synthetic-sparse.csv "
        "--baseline hpa --json"
    )
    result = json.loads(run(checkout, script).stdout)
    hpa = result["baseline"]
    return (
        f"{result['replica_hours']:.2f}",
        f"{result['slo_violation_minutes']:g}",
        f"{hpa['replica_hours']:.2f}",
        f"{hpa['slo_violation_minutes']:g}",
    )


def _diurnal_on_a_fine_grid(checkout: Path) -> tuple[str, ...]:
    """(scaleplane's cheapest 0-minute run: target and replica-hours; the HPA's frontier at 0 minutes;
    how many levels scaleplane's frontier is above the HPA's) on 56 targets, as docs/simulate.md says."""
    script = (
        "uv run scaleplane simulate --trace traces/synthetic-diurnal.csv --frontier --json "
        '--targets "$(LC_ALL=C seq -s, 0.40 0.01 0.95)"'
    )
    result = json.loads(run(checkout, script).stdout)
    mine = [p for p in result["frontier"]["scaleplane"] if p["slo_violation_minutes"] == 0][-1]
    return (
        f"{mine['target']:g}",
        f"{mine['replica_hours']:.2f}",
        f"{result['at_hpa_default_slo']['hpa']:.2f}",
        str(len(result["promises"]["frontier_above"]["hpa"])),
    )


def _batching_default(checkout: Path) -> str:
    from scaleplane.operator.wiring import settings

    return "on" if settings.OperatorSettings().batch_queries else "off"


# (doc, a regex whose first group is the figure the prose quotes, what the product says now)
FIGURES: list[tuple[str, str, Callable[[Path], Any]]] = [
    ("docs/infrastructure.md", r"a plan of `aws-prod`\s+\((\d+) resources\)", _planned_resources),
    ("docs/control-loop.md", r"Batching is (on|off) by\s+default", _batching_default),
    (
        "docs/simulate.md",
        r"(?s)Azure LLM conversations.*?at the HPA default's level \((\d+) SLO-violation minutes,\s+"
        r"(\d+\.\d+) replica-hours\).*?the recommended\s+preset "
        r"\((\d+\.\d+) replica-hours, (\d+) SLO minutes\)",
        _real_trace_against_the_hpa,
    ),
    (
        "docs/simulate.md",
        r"Here it spends (\d+\.\d+) replica-hours at (\d+) SLO minutes, where the HPA default\s+spends "
        r"(\d+\.\d+) at (\d+)\.",
        _sqrt_staffing_on_sparse,
    ),
    (
        "docs/simulate.md",
        r"scaleplane's cheapest 0-minute run is (0\.\d+) at (\d+\.\d+), still above the HPA's\s+"
        r"(\d+\.\d+), and its frontier is above the HPA's at (\d+) levels",
        _diurnal_on_a_fine_grid,
    ),
]


@pytest.mark.slow
@pytest.mark.parametrize(("doc", "pattern", "actual"), FIGURES, ids=[f"{d}:{p[:30]}" for d, p, _ in FIGURES])
def test_quoted_figures_match_the_product(
    checkout: Path, doc: str, pattern: str, actual: Callable[[Path], Any]
) -> None:
    quoted = re.findall(pattern, (REPO / doc).read_text())
    assert quoted, f"{doc} no longer quotes /{pattern}/: update FIGURES"
    assert set(quoted) == {actual(checkout)}, f"{doc} quotes {quoted}, the product says {actual(checkout)}"
