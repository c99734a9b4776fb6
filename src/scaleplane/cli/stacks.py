"""The stack a command names: its options, its project folder, its offline plan and its cost settings.

`plan`, `check` and `cost estimate` all start from the same stack (`--stack`, `--config-file`,
`--project-dir`) and the same offline plan: the Pulumi program run in this process under Pulumi's
mocks (scaleplane.infra.planning), never a cloud or the Pulumi CLI. It lives here, beside the app,
so the plan and cost commands share it without importing each other.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from scaleplane.cli.app import fail, spinner

if TYPE_CHECKING:
    from scaleplane.infra import planning

StackOption = typer.Option(..., "--stack", "-s", help="The stack: Pulumi.<stack>.yaml at the project root.")
ConfigFileOption = typer.Option(
    None, "--config-file", help="Plan this stack config file instead of Pulumi.<stack>.yaml.", dir_okay=False
)
ProjectOption = typer.Option(None, "--project-dir", help="Where Pulumi.yaml is (default: here or above).")


def project_root(given: Path | None) -> Path:
    """The folder of Pulumi.yaml: --project-dir if given, else here or the nearest parent with one."""
    if given is not None:
        if not (given / "Pulumi.yaml").is_file():
            raise fail(f"--project-dir: no Pulumi.yaml in {given}")
        return given
    for folder in (Path.cwd(), *Path.cwd().parents):
        if (folder / "Pulumi.yaml").is_file():
            return folder
    raise fail("no Pulumi.yaml here or in a parent folder: run from the repository or pass --project-dir")


def offline_plan(stack: str, config_file: Path | None, project_dir: Path | None) -> planning.Plan:
    """The stack's plan under Pulumi's mocks; any failure of the config or the program is `error: ...`."""
    # The Pulumi provider SDKs are tens of MB of Python source: without cached bytecode every plan
    # compiles them again (tens of seconds). Cache it even where PYTHONDONTWRITEBYTECODE is set; it
    # lands in the virtualenv's site-packages and in git-ignored __pycache__ folders.
    sys.dont_write_bytecode = False
    from scaleplane.infra import config, planning

    root = project_root(project_dir)
    if config_file is not None and not config_file.is_file():
        raise fail(f"--config-file: no such file: {config_file}")
    try:
        with spinner(f"planning {stack} under Pulumi's mocks"):
            return planning.plan(root, stack, config_file)
    except config.ConfigError as exc:
        raise fail("invalid stack config:\n  " + "\n  ".join(exc.problems)) from None
    except planning.PlanError as exc:
        raise fail(str(exc)) from None
    except Exception as exc:  # the program's own failure: report it, never a traceback
        raise fail(f"the Pulumi program failed under mocks: {type(exc).__name__}: {exc}") from None


def cost_config(stack: str, config_file: Path | None, project_dir: Path | None) -> tuple[str, Any]:
    """(region, the validated `scaleplane:cost` key) of a stack: `cost estimate` prices with it and
    `check` hands its budget to the budget rule."""
    from pydantic import ValidationError

    from scaleplane.infra import config, planning

    root = project_root(project_dir)
    try:
        _, values = planning.stack_config(root, stack, config_file)
    except planning.PlanError as exc:
        raise fail(str(exc)) from None
    raw = values.get("scaleplane:cost", "{}")
    try:
        settings = config.CostConfig.model_validate(json.loads(raw) if raw.startswith("{") else {})
    except (ValidationError, json.JSONDecodeError) as exc:
        raise fail(f"scaleplane:cost: invalid ({str(exc).splitlines()[-1].strip()}), was {raw}") from None
    return values.get("aws:region", "us-east-1"), settings
