"""The cluster side of `scaleplane fn deploy | list | rollback | delete` (operator.releases.releasing works).

`--kubeconfig FILE` and/or `--context NAME` (or `--cluster` for the current kubeconfig context) send a
command to a cluster instead of the local platform; the options are read as for `operator run`
(cli.clusters), the credentials found as for the operator (kube.credentials: a static token, a token
file, an exec plugin, client certificates), and every request goes through the project's one client
(kube.clients). Faults come back as one `error:` line that says what to do: a namespace or the CRD
missing (404), credentials expired or refused (401), not allowed (403), the API server unreachable, a
conflict that kept coming back.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from scaleplane.cli import clusters
from scaleplane.cli.app import fail

T = TypeVar("T")

Kubeconfig = Annotated[
    Path | None,
    clusters.kubeconfig_option(
        "Work on the cluster of this kubeconfig (Function resources), not the local platform."
    ),
]
Context = Annotated[
    str | None, clusters.context_option("The kubeconfig context to use (implies the cluster).")
]
Cluster = Annotated[
    bool,
    typer.Option("--cluster", help="The cluster of the current kubeconfig ($KUBECONFIG or ~/.kube/config)."),
]


def wanted(kubeconfig: Path | None, context: str | None, cluster: bool) -> bool:
    return cluster or kubeconfig is not None or context is not None


def run(kubeconfig: Path | None, context: str | None, what: str, work: Callable[[Any], Awaitable[T]]) -> T:
    """Run `work(client)` on the cluster; API errors become one `error:` line (exit 1) saying what to do."""
    from scaleplane.kube import clients
    from scaleplane.operator.releases import releasing

    found = clusters.credentials_for(kubeconfig, context)

    async def go() -> T:
        client = clients.KubeClient(found)
        try:
            return await work(client)
        finally:
            await client.close()

    try:
        return asyncio.run(go())
    except releasing.Conflicted as exc:
        raise fail(str(exc), code=1) from None
    except releasing.ReleaseError as exc:
        raise fail(str(exc)) from None
    except clients.ApiError as exc:
        raise fail(f"{what}: {explain(exc, found.server, what)}", code=1) from None


def explain(exc: Any, server: str, what: str = "") -> str:
    allowed = (
        "get on functions.scaleplane.io, list on pods and get on pods/log"
        if what.startswith("logs")
        else "get/list/create/patch/delete on functions.scaleplane.io and configmaps"
    )
    hints = {
        0: f"cannot reach the API server {server}; is the cluster up and the kubeconfig's server right?",
        401: "the cluster refused the credentials (expired or revoked token); get fresh ones "
        "(for example `aws eks update-kubeconfig`) and run the command again",
        403: f"not allowed; it needs {allowed} in that namespace (docs/functions.md, RBAC)",
        404: "not found: does the namespace exist (`kubectl create namespace NAME`), and is the Function "
        "CRD installed (`kubectl apply -f operator/crds/`)?",
        409: "conflict: the Function changed meanwhile; run the command again",
    }
    hint = hints.get(exc.status, "the API server refused it")
    return f"{hint} ({exc})"


def settings_of(definition: Any, note: str) -> dict[str, Any]:
    """What a version keeps besides its code: the function.yaml's spec (camelCase), the handler's
    function name and the note."""
    settings: dict[str, Any] = definition.spec.model_dump(by_alias=True, exclude={"handler"})
    from scaleplane.functions import handlers

    settings["function"] = definition.handler_reference.partition(":")[2] or handlers.DEFAULT_FUNCTION
    if note:
        settings["note"] = note
    return settings


def list_cluster(kubeconfig: Path | None, context: str | None, namespace: str | None, as_json: bool) -> None:
    from scaleplane.operator.releases import releasing

    where = f"list functions in {namespace or 'all namespaces'}"
    found = run(kubeconfig, context, where, lambda client: releasing.listing(client, namespace))
    if as_json:
        typer.echo(json.dumps({"cluster": found}, indent=2))
        return
    if not found:
        typer.echo(f"no Function in {namespace or 'any namespace'} (scaleplane fn deploy DIR --cluster)")
    for entry in found:
        versions = ",".join(map(str, entry["versions"])) or "-"
        current = entry["current"] or "-"
        typer.echo(f"{entry['function']:<28} v{current:<4} versions {versions:<12} ready {entry['ready']}")


def logs_cluster(
    kubeconfig: Path | None, context: str | None, key: Any, lines: int, since: int | None, follow: bool
) -> None:
    """Each instance pod's last `lines` lines, prefixed `[POD]`; a Function at zero has none (exit 0).
    With `follow`, the lines as they come, until the pods stop or Ctrl-C."""
    from scaleplane.operator.releases import tailing

    def emit(pod: str, line: str) -> None:
        typer.echo(f"[{pod}] {line}")

    reading = tailing.follow if follow else tailing.instance_logs
    extra = {"emit": emit} if follow else {}
    try:
        found = run(
            kubeconfig, context, f"logs of {key}",
            lambda client: reading(
                client, key.namespace, key.name, tail_lines=lines, since_seconds=since, **extra
            ),
        )  # fmt: skip
    except KeyboardInterrupt:
        raise typer.Exit(0) from None
    if follow:
        for pod in found.pods:
            if pod.gone:
                typer.echo(f"[{pod.pod}] (gone: deleted while the logs were read)", err=True)
    if not found.pods:
        typer.echo(
            f"{found.function} has no instance pods (label {found.selector}): it is at zero or not started"
        )
        return
    for pod in [] if follow else found.pods:
        if pod.gone:
            typer.echo(f"[{pod.pod}] (gone: deleted while the logs were read)", err=True)
        elif not pod.lines:
            typer.echo(f"[{pod.pod}] (no log lines; {pod.phase})")
        for line in pod.lines:
            typer.echo(f"[{pod.pod}] {line}")
