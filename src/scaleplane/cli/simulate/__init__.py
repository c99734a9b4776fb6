"""`scaleplane simulate`: replay a load trace through the real engine, against a baseline and the oracle.

simulating (the command and its runs), inputs (the options, trace and policy checked into the
engine's values), outputs (the summary table, the timeline CSV, the report folder), sweeping
(`--frontier`: every preset family swept over its targets in worker processes). The command only
opens files and prints: parsing, simulation and the oracle are `scaleplane.scaling` (pure), the
reports `scaleplane.reporting`. Rule: like every command here, these import only the shared modules
at the top of cli, never another command. Importing the package registers `simulate`.
"""

from __future__ import annotations

from scaleplane.cli.simulate import simulating

COMMANDS = (simulating,)  # imported for its command
