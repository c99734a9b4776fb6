"""`scaleplane drill list | plan | run | recover | history`: disaster-recovery drills.

drilling (the `drill` group, its targets and scenarios, `list` and `plan`), executing (`run`, and
what a run leaves: `recover` after a killed one, `history`). Safe by default: `plan`, and `run`
without `--execute`, print every step and touch nothing. The drill engine is `scaleplane.drills.engine`
(pure), the local servers `scaleplane.local.ha`. Rule: like every command here, these import only
the shared modules at the top of cli, never another command. Importing the package registers every
`drill` command, in `--help` order.
"""

from __future__ import annotations

from scaleplane.cli.drill import drilling, executing

COMMANDS = (drilling, executing)  # imported for their commands
