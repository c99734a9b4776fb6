"""The `scaleplane` command: one entry for every user-facing job.

Rule: thin. Each job lives in its own module that adds its commands to `app.app`; heavy imports
(pulumi, kopf, matplotlib) happen inside the command functions so `scaleplane --help` stays fast.
"""

from __future__ import annotations

import importlib

from scaleplane.cli import app as _app

# Each module registers its commands on import; listed here so the order of `--help` is deliberate.
COMMAND_MODULES = (
    "simulating",
    "planning",
    "operating",
    "local_platform",
    "costing",
    "observing",
    "functions",
    "function_generation",
    "importing",
    "validating",
    "drilling",
)


def main() -> None:
    for name in COMMAND_MODULES:
        importlib.import_module(f"scaleplane.cli.{name}")
    _app.app()
