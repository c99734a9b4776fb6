"""The `scaleplane` command: one entry for every user-facing job.

At the top: app (the root Typer app, where errors and help text are shaped), the small modules the
commands share (options, stacks, clusters) and the one-module commands (operating, local_platform,
observing, importing, validating). A command with several modules is a sub-package: simulate, plan,
cost, functions, drill; its `__init__` says what lives there.

Rule: thin. Each job adds its commands to `app.app` when imported; heavy imports (pulumi, kopf,
matplotlib) happen inside the command functions so `scaleplane --help` stays fast. A command imports
only app and the shared modules, never another command (checked by import-linter).
"""

from __future__ import annotations

import importlib

from scaleplane.cli import app as _app

# Each module registers its commands on import; listed here so the order of `--help` is deliberate.
COMMAND_MODULES = (
    "simulate",
    "plan",
    "operating",
    "local_platform",
    "cost",
    "observing",
    "functions",
    "importing",
    "validating",
    "drill",
)


def main() -> None:
    for name in COMMAND_MODULES:
        importlib.import_module(f"scaleplane.cli.{name}")
    _app.app()
