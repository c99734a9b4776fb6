"""Every command, on generated and mutated inputs: exit 0, 1 or 2, never a traceback, in bounded time.

The commands are enumerated from the Typer app itself, so a command added later is fuzzed without
touching this file; only a command that starts long-running servers is listed in LONG_RUNNING (with
why). Inputs: the shipped valid files (policies, traces, stack configs, the policy config) with one
field broken, truncated, binary noise, empty files, folders where files belong, files where folders
belong, huge and tiny numbers, wrong types. An "internal error" (an exception no command expected,
caught by cli.app.GuardedGroup) fails the test too: it is a bug even though the user sees one line.

Each parameter of each command gets its own test in which it is the broken one and every other
parameter is sensible (a valid file, the default, or left out), so an example reaches the code behind
that parameter instead of stopping at the first bad option; one more test per command draws only
sensible values. Bounded for CI: SCALEPLANE_FUZZ_EXAMPLES (default 3) examples per parameter; a
deeper run: `SCALEPLANE_FUZZ_EXAMPLES=100 uv run pytest tests/cli/test_fuzz_commands.py`.
"""

from __future__ import annotations

import enum
import importlib
import json
import os
import random
import re
import resource
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
EXAMPLES = int(os.environ.get("SCALEPLANE_FUZZ_EXAMPLES", "3"))  # per command and parameter
MEMORY_BYTES = 6 * 2**30  # address space of the test process (Pulumi's SDKs take about 2 GB), or 3 GB more
SECONDS_PER_RUN = 60  # a plan under mocks takes a few seconds on a shared machine; nothing takes a minute
LONG_RUNNING = {
    "demo": "starts the whole platform for minutes (tests/e2e/test_demo.py runs it)",
    "local up": "starts servers that outlive the command (tests/e2e/test_local_platform_lifecycle.py)",
    "operator run": "runs the operator until stopped, against a cluster (tests/operator)",
}
# The first is what hypothesis tries first: the values most likely to break arithmetic lead.
NUMBERS = ["inf", "1e-308", "nan", "-1", "0", "1e308", "2147483648", "-inf", "0.5", "10" * 30, "x", "", "1"]


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


@pytest.fixture(scope="module", autouse=True)
def bounded_memory() -> Iterator[None]:
    """An input that makes a command allocate gigabytes fails here as a MemoryError (an internal error
    naming the input) instead of swapping the shared machine: it happened, with one far timestamp."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    status = Path("/proc/self/status").read_text() if Path("/proc/self/status").exists() else ""
    found = re.search(r"^VmSize:\s+(\d+) kB", status, re.M)
    used = int(found.group(1)) * 1024 if found else 0  # what earlier tests of this process hold already
    limit = max(MEMORY_BYTES, used + 3 * 2**30)
    limit = limit if hard == resource.RLIM_INFINITY else min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


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


def _a_file(workspace: Path, draw: Any, name: str, hostile: bool) -> str:
    """A path for a file option: a valid sample, or (hostile) one broken, noise, empty, a folder, nothing."""
    samples = workspace / "samples"
    rng = random.Random(draw(st.integers(0, 2**32)))
    hostile_choices = ["broken", "broken", "broken", "truncated", "noise", "empty", "folder", "missing"]
    choice = draw(st.sampled_from(hostile_choices)) if hostile else "valid"
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


def _a_value(workspace: Path, draw: Any, param: Any, hostile: bool) -> list[str]:
    """A value for `param`: a sensible one, or (hostile) what a user should never be punished for."""
    name = (param.opts or [param.name or "?"])[0]
    annotation = param.type_descriptor.annotation
    info = param.type_descriptor.parameter_info
    if annotation is Path:
        if getattr(info, "file_okay", True) is False or name in ("--state-dir", "--report", "directory"):
            fresh = str(workspace / "out" / str(draw(st.integers(0, 10**6))))
            return [_a_file(workspace, draw, name, hostile=True) if hostile else fresh]
        return [_a_file(workspace, draw, name, hostile)]
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        members = [member.value for member in annotation]
        return [draw(st.sampled_from(["no-such-choice", "", *members] if hostile else members))]
    if annotation in (int, float):
        if hostile:
            return [
                draw(st.sampled_from(NUMBERS) | st.floats(allow_nan=True).map(repr) | st.integers().map(str))
            ]
        return [str(param.default)]
    if name == "--stack":
        stacks = ["aws-dev", "aws-prod", "k8s-dev"]
        return [draw(st.sampled_from(["no-such-stack", "", "../x", *stacks] if hostile else stacks))]
    if name == "--signal" and hostile:
        return [draw(st.sampled_from(["demand=backlog", "x=y", "=", "demand", "demand=demand"]))]
    if not hostile and isinstance(param.default, str):
        return [param.default]
    return [
        draw(st.sampled_from(["", "x", "a=b", "-", "..", "\u00e9\u00e8", "x" * 500]) | st.text(max_size=20))
    ]


def _params(path: str) -> list[str]:
    return [param.name for param in commands()[path].params if param.name != "help"]


# One test per (command, parameter): that parameter is the one broken, every other is sensible, so
# each example reaches the code behind the parameter instead of failing on the first bad one.
CASES = [(path, name) for path in FUZZED for name in _params(path)] + [(path, None) for path in FUZZED]


@pytest.mark.parametrize(
    ("path", "victim"), CASES, ids=[f"{path}:{victim or 'defaults'}" for path, victim in CASES]
)
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_no_traceback_ever(workspace: Path, path: str, victim: str | None, data: st.DataObject) -> None:
    command = commands()[path]
    args = path.split()
    for param in command.params:
        hostile = param.name == victim
        if param.name == "help" or (not param.required and not hostile and not data.draw(st.booleans())):
            continue
        if not hostile and not param.required and param.default is None:
            continue  # an optional input left out is the sensible value: no file, no list, the default
        if type(param).__name__ == "TyperArgument":
            args += _a_value(workspace, data.draw, param, hostile)
        elif param.is_flag:
            use_secondary = param.secondary_opts and data.draw(st.booleans())
            args.append(param.secondary_opts[0] if use_secondary else param.opts[0])
        else:
            args += [param.opts[0], *_a_value(workspace, data.draw, param, hostile)]
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
