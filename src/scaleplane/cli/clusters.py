"""`--kubeconfig FILE` and `--context NAME`: which cluster a command talks to.

`scaleplane fn deploy | list | rollback | delete | logs` and `scaleplane operator run` read the two
options through `credentials_for`, so one mistake gets the same line whatever the command (exit 2,
before anything is sent to a cluster):

    --kubeconfig: PATH does not exist
    --context NAME: not a context of PATH (it has: a, b)
    --kubeconfig PATH: why the file cannot be read, or what its context is missing

`--context` alone picks a context of the file kubectl would read ($KUBECONFIG's first file, else
~/.kube/config); `--kubeconfig` alone takes that file's current context. With neither, the
credentials are found as kube.credentials.locate finds them (the pod's service account, else the
current kubeconfig context). Each command gives its options a help of its own (what the cluster is
used for), the names are these.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from scaleplane.cli.app import fail

if TYPE_CHECKING:
    from scaleplane.kube.credentials import Credentials


def kubeconfig_option(help: str) -> Any:
    return typer.Option("--kubeconfig", help=help)


def context_option(help: str) -> Any:
    return typer.Option("--context", help=help)


def credentials_for(kubeconfig: Path | None, context: str | None) -> Credentials:
    """The credentials the two options name (see the module's docstring); `fail` (exit 2) when they
    name nothing usable."""
    from lightkube.config import kubeconfig as kubeconfigs

    from scaleplane.kube import credentials

    if kubeconfig is None and context is None:
        try:
            return credentials.locate()
        except credentials.NoCredentials as exc:
            raise fail(str(exc)) from None
    if kubeconfig is None:
        listed = [p for p in os.environ.get("KUBECONFIG", "").split(os.pathsep) if p]
        kubeconfig = Path(listed[0] if listed else credentials.DEFAULT_KUBECONFIG).expanduser()
    if not kubeconfig.is_file():
        raise fail(f"--kubeconfig: {kubeconfig} does not exist")
    try:
        found = kubeconfigs.KubeConfig.from_file(kubeconfig)
    except Exception as exc:  # lightkube raises ConfigError, yaml and msgspec their own
        raise fail(f"--kubeconfig {kubeconfig}: {exc}") from None
    name = context or found.current_context
    if name is None:
        raise fail(f"--kubeconfig {kubeconfig}: no current context; name one with --context")
    if name not in found.contexts:
        has = ", ".join(sorted(found.contexts)) or "none"
        option = f"--context {name}" if context else f"--kubeconfig {kubeconfig}: its current context {name}"
        raise fail(f"{option}: not a context of {kubeconfig} (it has: {has})")
    named = found.contexts[name]
    for kind, key, defined in (("cluster", named.cluster, found.clusters), ("user", named.user, found.users)):
        if key and key not in defined:
            raise fail(f"--kubeconfig {kubeconfig}: context {name} names {kind} {key!r}, which it lacks")
    config = found.get(context_name=context)
    assert config is not None  # a context was named or current (above)
    return credentials.Credentials(config, f"kubeconfig {kubeconfig} (context {config.context_name})")
