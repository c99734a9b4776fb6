"""`scaleplane cost`: what a stack will cost, what autoscaling spent and saved, what the bill says.

costing (the `cost` group, `cost estimate`, and the catalog and estimate the others share), actuals
(`cost actual`: Cost Explorer against the estimate), attribution (`cost report`: spend and savings
from the operator's series in Prometheus), prices (`cost prices list | refresh`), tables (the
terminal tables they print). Thin: they read files, plan the stack (cli.stacks, the same offline
plan as `scaleplane plan`) and print; the pricing is `scaleplane.cost` (pure), the servers are
reached through its adapters. Bad input ends with `error: ...` naming the file, field and value.
Rule: like every command here, these import only the shared modules at the top of cli, never
another command. Importing the package registers every `cost` command, in `--help` order.
"""

from __future__ import annotations

from scaleplane.cli.cost import actuals, attribution, costing, prices

COMMANDS = (costing, actuals, attribution, prices)  # imported for their commands
