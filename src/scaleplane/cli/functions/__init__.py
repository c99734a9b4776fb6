"""`scaleplane fn new | test | deploy | list | call | logs | rollback | delete | gateway | generate`.

deploy/list/rollback/delete talk to the catalog in the running local platform's Redis, and call to its
gateway (both found in the platform's state directory); with --kubeconfig, --context or --cluster
they talk to a cluster's Function resources instead (releases, operator.releases.releasing). new and test
need no platform at all.

The commands live by role: group (the `fn` group and what its commands share), authoring (new,
test), deploying (deploy, list, rollback, delete), calling (call, logs, gateway), generation
(generate: a function and its tests from a description), releases (the cluster side of deploy,
list, rollback, delete and logs). Rule: like every command here, these import only the shared
modules at the top of cli, never another command. Importing the package registers every `fn`
command, listed in `--help` in the order a user meets them: write, try, deploy, look, call, read
the logs, roll back, delete; then generate.
"""

from __future__ import annotations

from scaleplane.cli.functions import authoring, calling, deploying, generation
from scaleplane.cli.functions.group import fn

ORDER = ("new", "test", "deploy", "list", "call", "logs", "rollback", "delete", "gateway", "generate")
ROLES = (authoring, deploying, calling, generation)  # imported for their commands


def _place(name: str | None) -> int:
    return ORDER.index(name) if name in ORDER else len(ORDER)


fn.registered_commands.sort(key=lambda command: _place(command.name))
