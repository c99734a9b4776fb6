"""Every command, on generated and mutated inputs: exit 0, 1 or 2, never a traceback, in bounded time.

The commands are enumerated from the Typer app itself, so a command added later is fuzzed without
touching this file; only a command that starts long-running servers is listed in LONG_RUNNING (with
why). Inputs: the shipped valid files (policies, traces, stack configs, the policy config) with one
field broken, truncated, binary noise, empty files, folders where files belong, files where folders
belong, huge and tiny numbers, wrong types. An "internal error" (an exception no command expected,
caught by cli.app.GuardedGroup) fails the test too: it is a bug even though the user sees one line.

Bounded for CI: SCALEPLANE_FUZZ_EXAMPLES (default 8) examples per command; a deeper run:
`SCALEPLANE_FUZZ_EXAMPLES=300 uv run pytest tests/cli/test_fuzz_commands.py`.
"""

from __future__ import annotations

import enum
import importlib
import json
import os
import random
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer.main
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import scaleplane.cli
from scaleplane.cli import app as cli_app

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = int(os.environ.get("SCALEPLANE_FUZZ_EXAMPLES", "8"))
SECONDS_PER_RUN = 60  # a plan under mocks takes a few seconds on a shared machine; nothing takes a minute
LONG_RUNNING = {
    "demo": "starts the whole platform for minutes (tests/e2e/test_demo.py runs it)",
    "local up": "starts servers that outlive the command (tests/e2e/test_local_platform_lifecycle.py)",
    "operator run": "runs the operator until stopped, against a cluster (tests/operator)",
}
NUMBERS = ["0", "-1", "1", "0.5", "1e308", "1e-308", "inf", "-inf", "nan", "2147483648", "10" * 30, "x", ""]


def commands() -> dict[str, Any]:
    for name in scaleplane.cli.COMMAND_MODULES:
        importlib.import_module(f"scaleplane.cli.{name}")
    found: dict[str, Any] = {}

    def walk(command: Any, path: str) -> None:
        if hasattr(command, "commands"):  # typer.core.TyperGroup is not a click.Group
            for name, sub in command.commands.items():
                walk(sub, f"{path} {name}".strip())
        else:
            found[path] = command

    walk(typer.main.get_command(cli_app.app), "")
    return found


FUZZED = sorted(set(commands()) - set(LONG_RUNNING))


def test_every_command_is_fuzzed_or_says_why_not() -> None:
    assert set(LONG_RUNNING) <= set(commands()), "LONG_RUNNING names a command that no longer exists"
    assert FUZZED, "no command found in the Typer app"


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A project root of its own: the stacks read from the repository, anything written lands here."""
    root = tmp_path_factory.mktemp("fuzz")
    for path in [REPO / "Pulumi.yaml", *REPO.glob("Pulumi.*.yaml"), REPO / "stacks"]:
        (root / path.name).symlink_to(path)
    shutil.copytree(REPO / "operator", root / "operator")
    samples = root / "samples"
    samples.mkdir()
    (samples / "trace.csv").write_text(
        "".join((REPO / "traces" / "synthetic-noisy.csv").open().readlines()[:80])
    )
    (samples / "requests.csv").write_text(
        "".join((REPO / "traces" / "azure-llm-conv-2023.csv").open().readlines()[:120])
    )
    for example in (REPO / "examples").glob("*.yaml"):
        shutil.copy(example, samples / example.name)
    shutil.copy(REPO / "Pulumi.aws-dev.yaml", samples / "stack.yaml")
    shutil.copy(REPO / "policies" / "policy-config.json", samples / "policy-config.json")
    (samples / "a-folder").mkdir()
    cwd = Path.cwd()
    os.chdir(root)
    try:
        yield root
    finally:
        os.chdir(cwd)


def _leaves(data: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(data, dict) and data:
        return [leaf for key, value in data.items() for leaf in _leaves(value, (*path, key))] + [path]
    if isinstance(data, list) and data:
        return [leaf for i, value in enumerate(data) for leaf in _leaves(value, (*path, i))] + [path]
    return [path]


def _break_one_field(text: str, rng: random.Random, as_json: bool) -> str:
    data = json.loads(text) if as_json else yaml.safe_load(text)
    path = rng.choice(_leaves(data))
    if not path:
        return text[: rng.randrange(len(text) + 1)]
    parent = data
    for part in path[:-1]:
        parent = parent[part]
    wrong = rng.choice(["40", True, None, -1, 10**24, 1e308, [], {}, "", "x" * 300, {"unknownKey": 1}, 0.5])
    if rng.random() < 0.2 and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = wrong
    if rng.random() < 0.2 and isinstance(parent, dict):
        parent["unknwnKey"] = 1
    return json.dumps(data) if as_json else yaml.safe_dump(data)


def _break_csv(text: str, rng: random.Random) -> str:
    lines = text.splitlines()
    index = rng.randrange(len(lines))
    cells = lines[index].split(",")
    cells[rng.randrange(len(cells))] = rng.choice([*NUMBERS, "2024-13-45T99:00", "1715342400000", '"'])
    lines[index] = ",".join(cells)
    return "\n".join(lines) + "\n"


def _a_file(workspace: Path, draw: Any, name: str) -> str:
    """A path for a file-ish option: a sample (often broken), noise, empty, a folder, or nothing there."""
    samples = workspace / "samples"
    rng = random.Random(draw(st.integers(0, 2**32)))
    choice = draw(
        st.sampled_from(["valid", "broken", "broken", "truncated", "noise", "empty", "folder", "missing"])
    )
    if choice == "folder":
        return str(samples / "a-folder")
    if choice == "missing":
        return str(samples / "no-such-file.yaml")
    originals = sorted(p.name for p in samples.iterdir() if p.is_file() and not p.name.startswith("gen-"))
    policies = [name for name in originals if name.endswith(".yaml") and name != "stack.yaml"]
    pool = {
        "--trace": ["trace.csv", "requests.csv"],
        "--policy": policies,
        "--policies": policies,
        "--config-file": ["stack.yaml"],
        "--policy-config": ["policy-config.json"],
    }.get(name, originals)
    source = samples / rng.choice(sorted(pool))
    text = source.read_text()
    target = samples / f"gen-{rng.randrange(10**9)}{source.suffix}"
    if choice == "broken" and source.suffix == ".csv":
        text = _break_csv(text, rng)
    elif choice == "broken":
        text = _break_one_field(text, rng, as_json=source.suffix == ".json")
    elif choice == "truncated":
        text = text[: rng.randrange(len(text) + 1)]
    elif choice == "empty":
        text = ""
    if choice == "noise":
        target.write_bytes(bytes(rng.randrange(256) for _ in range(rng.randrange(1, 400))))
    else:
        target.write_text(text)
    return str(target)


def _a_value(workspace: Path, draw: Any, param: Any) -> list[str]:
    name = (param.opts or [param.name or "?"])[0]
    annotation = param.type_descriptor.annotation
    info = param.type_descriptor.parameter_info
    if annotation is Path:
        if getattr(info, "file_okay", True) is False or name in ("--state-dir", "--report", "directory"):
            fresh = str(workspace / "out" / str(draw(st.integers(0, 10**6))))
            return [draw(st.sampled_from([fresh, fresh, _a_file(workspace, draw, name)]))]
        return [_a_file(workspace, draw, name)]
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return [draw(st.sampled_from([*(member.value for member in annotation), "no-such-choice"]))]
    if annotation in (int, float):
        return [draw(st.sampled_from(NUMBERS) | st.floats(allow_nan=True).map(repr) | st.integers().map(str))]
    if name == "--stack":
        return [draw(st.sampled_from(["aws-dev", "aws-prod", "k8s-dev", "no-such-stack", ""]))]
    if name == "--signal":
        return [draw(st.sampled_from(["demand=demand", "demand=backlog", "x=y", "=", "demand"]))]
    return [
        draw(st.sampled_from(["", "x", "a=b", "-", "..", "\u00e9\u00e8", "x" * 500]) | st.text(max_size=20))
    ]


@pytest.mark.parametrize("path", FUZZED)
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_no_traceback_ever(workspace: Path, path: str, data: st.DataObject) -> None:
    command = commands()[path]
    args = path.split()
    for param in command.params:
        if param.name in ("help",) or (not param.required and not data.draw(st.booleans())):
            continue
        if type(param).__name__ == "TyperArgument":
            args += _a_value(workspace, data.draw, param)
        elif param.is_flag:
            use_secondary = param.secondary_opts and data.draw(st.booleans())
            args.append(param.secondary_opts[0] if use_secondary else param.opts[0])
        else:
            args += [param.opts[0], *_a_value(workspace, data.draw, param)]
    started = time.monotonic()
    result = CliRunner().invoke(cli_app.app, args)
    took = time.monotonic() - started
    shown = f"scaleplane {' '.join(args)}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
    assert result.exit_code in (0, 1, 2), shown
    assert result.exception is None or isinstance(result.exception, SystemExit), shown
    assert "Traceback" not in result.stdout + result.stderr, shown
    assert "internal error" not in result.stderr, shown
    assert not re.search(r"^error:\s*(\(|$)", result.stderr, re.M), shown  # an error that says nothing
    assert took < SECONDS_PER_RUN, shown


def test_every_group_alone_shows_help_not_an_error() -> None:
    groups = {path.rsplit(" ", 1)[0] for path in commands() if " " in path}
    for group in sorted(groups):
        result = CliRunner().invoke(cli_app.app, group.split())
        assert result.exit_code in (0, 2) and "error:" not in result.stderr, (group, result.stderr)
        assert f"Usage: scaleplane {group}" in result.stdout + result.stderr
