"""`scaleplane fn deploy | list | rollback | delete`: a function's versions, in the local platform's
catalog (its Redis, found from --state-dir) or, with --kubeconfig, --context or --cluster, in a
cluster's Function resources (cli.functions.releases, operator.releases.releasing)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from scaleplane.cli.app import fail, read_text
from scaleplane.cli.functions.group import (
    DEFAULT_STATE,
    StateDir,
    fn,
    load_definition,
    open_catalog,
    parse_key,
    platform_info,
)
from scaleplane.cli.functions.releases import Cluster, Context, Kubeconfig


@fn.command("deploy", help="Store the function's code and settings as a new version; the platform runs it.")
def deploy(
    path: Annotated[Path, typer.Argument(help="The function's directory (or its function.yaml).")],
    note: Annotated[str, typer.Option("--note", help="Kept with the version (why this deploy).")] = "",
    state_dir: StateDir = DEFAULT_STATE,
    kubeconfig: Kubeconfig = None,
    context: Context = None,
    cluster: Cluster = False,
) -> None:
    from scaleplane.cli.functions import releases

    definition = load_definition(path)
    target = definition.handler_reference.partition(":")[0]
    if not target.endswith(".py"):
        raise fail(
            f"{definition.source}: spec.handler must name a .py file to deploy, "
            f"was {definition.spec.handler!r}"
        )
    source = Path(target)
    if not source.is_file():
        raise fail(f"{definition.source}: spec.handler: {source} does not exist")
    if releases.wanted(kubeconfig, context, cluster):
        from scaleplane.operator.releases import releasing

        code, key, settings = (
            read_text(source, "spec.handler"),
            definition.key,
            releases.settings_of(definition, note),
        )
        done = releases.run(
            kubeconfig, context, f"deploy {key}",
            lambda client: releasing.deploy(client, key.namespace, key.name, code, settings),
        )  # fmt: skip
        versions = ",".join(map(str, done.versions))
        typer.echo(
            f"deployed {key} v{done.version} (versions {versions}); the operator rolls its pods onto it"
        )
        return
    version = open_catalog(state_dir).deploy(
        definition.key, definition.spec, source.name, read_text(source, "spec.handler"), note
    )
    typer.echo(f"deployed {definition.key} v{version.version}; the platform runs it within a second")


@fn.command("list", help="Functions in the catalog: current version, all versions, instances ready now.")
def list_functions(
    state_dir: StateDir = DEFAULT_STATE,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object instead of text.")] = False,
    kubeconfig: Kubeconfig = None,
    context: Context = None,
    cluster: Cluster = False,
    namespace: Annotated[
        str | None,
        typer.Option("--namespace", "-n", help="In a cluster: only this namespace (default: all)."),
    ] = None,
) -> None:
    import requests

    from scaleplane.cli.functions import releases

    if releases.wanted(kubeconfig, context, cluster):
        releases.list_cluster(kubeconfig, context, namespace, as_json)
        return

    info = platform_info(state_dir)
    listing = open_catalog(state_dir).listing()
    ready: dict[str, int] = {}
    try:
        answer = requests.get(f"{info['gateway']}/v1/functions", timeout=5).json()
        ready = {f"{f['namespace']}/{f['name']}": f["ready"] for f in answer["functions"]}
    except (requests.RequestException, ValueError, KeyError):
        pass  # the gateway restarting: list without instance counts
    for entry in listing:
        entry["ready"] = ready.get(entry["function"])
    declared = sorted(set(ready) - {e["function"] for e in listing})
    if as_json:
        typer.echo(json.dumps({"catalog": listing, "fromPolicyFiles": declared}, indent=2))
        return
    if not listing and not declared:
        typer.echo("no functions (scaleplane fn new NAME, then scaleplane fn deploy NAME)")
    for entry in listing:
        versions = ",".join(map(str, entry["versions"]))
        typer.echo(
            f"{entry['function']:<28} v{entry['current']:<4} versions {versions:<12} ready {entry['ready']}"
        )
    for name in declared:
        typer.echo(f"{name:<28} (from a policy file)         ready {ready[name]}")


@fn.command("rollback", help="Make an earlier version current again (the one before, or --to N).")
def rollback(
    function: Annotated[str, typer.Argument(help="namespace/name")],
    to: Annotated[int | None, typer.Option("--to", help="The version to go back to.", min=1)] = None,
    state_dir: StateDir = DEFAULT_STATE,
    kubeconfig: Kubeconfig = None,
    context: Context = None,
    cluster: Cluster = False,
) -> None:
    from scaleplane.cli.functions import releases
    from scaleplane.functions.authoring import catalog

    if releases.wanted(kubeconfig, context, cluster):
        from scaleplane.operator.releases import releasing

        key = parse_key(function)
        done = releases.run(
            kubeconfig, context, f"rollback {key}",
            lambda client: releasing.rollback(client, key.namespace, key.name, to),
        )  # fmt: skip
        typer.echo(f"{key} is at v{done.version} again; the operator rolls its pods back onto it")
        return

    try:
        version = open_catalog(state_dir).rollback(parse_key(function), to)
    except catalog.CatalogError as exc:
        raise fail(str(exc)) from None
    typer.echo(f"{function} is at v{version.version} again; the platform replaces its instances")


@fn.command("delete", help="Remove a function and all its versions from the catalog; its instances drain.")
def delete(
    function: Annotated[str, typer.Argument(help="namespace/name")],
    state_dir: StateDir = DEFAULT_STATE,
    kubeconfig: Kubeconfig = None,
    context: Context = None,
    cluster: Cluster = False,
) -> None:
    from scaleplane.cli.functions import releases
    from scaleplane.functions.authoring import catalog

    if releases.wanted(kubeconfig, context, cluster):
        from scaleplane.operator.releases import releasing

        key = parse_key(function)
        gone = releases.run(
            kubeconfig,
            context,
            f"delete {key}",
            lambda client: releasing.delete(client, key.namespace, key.name),
        )
        typer.echo(f"deleted {key} and its {gone} version(s); its Deployment, Service and policy go with it")
        return

    try:
        open_catalog(state_dir).delete(parse_key(function))
    except catalog.CatalogError as exc:
        raise fail(str(exc)) from None
    typer.echo(f"deleted {function}")
