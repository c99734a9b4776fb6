"""`scaleplane fn new | test | deploy | list | call | logs | rollback | delete | gateway`: functions here.

deploy/list/rollback/delete talk to the catalog in the running local platform's Redis, and call to its
gateway (both found in the platform's state directory); with --kubeconfig, --context or --cluster
they talk to a cluster's Function resources instead (cli.function_releases, operator.releases.releasing).
new and test need no platform at all.

Importing this module registers every `fn` command; they live by role (cli.function_group says where)
and are listed in `--help` in the order a user meets them: write, try, deploy, look, call, read the
logs, roll back, delete; then what other modules add (cli.function_generation's generate).
"""

from __future__ import annotations

from scaleplane.cli import function_authoring, function_calling, function_deploying
from scaleplane.cli.function_group import fn

ORDER = ("new", "test", "deploy", "list", "call", "logs", "rollback", "delete", "gateway")
ROLES = (function_authoring, function_deploying, function_calling)  # imported for their commands


def _place(name: str | None) -> int:
    return ORDER.index(name) if name in ORDER else len(ORDER)


fn.registered_commands.sort(key=lambda command: _place(command.name))
