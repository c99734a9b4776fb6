"""`scaleplane plan` and `scaleplane check`: a stack's offline plan, and the guardrails over it.

planning (the `plan` command: the plan printed, as JSON or as manifests), previews (how the plan
reads: the tree like `pulumi preview`, the JSON), checking (the `check` command). The stack and its
offline plan are cli.stacks, shared with `cost`. Rule: like every command here, these import only
the shared modules at the top of cli (app, options, stacks, clusters), never another command.
Importing the package registers both commands, `plan` first.
"""

from __future__ import annotations

from scaleplane.cli.plan import planning  # first: `--help` lists `plan` before `check`

# isort: split
from scaleplane.cli.plan import checking

COMMANDS = (planning, checking)  # imported for their commands, in `--help` order
