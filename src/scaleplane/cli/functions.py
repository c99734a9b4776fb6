"""`scaleplane fn new | test | deploy | list | call | logs | rollback | delete | gateway`: functions here.

deploy/list/rollback/delete talk to the catalog in the running local platform's Redis, and call to its
gateway (both found in the platform's state directory); with --kubeconfig, --context or --cluster
they talk to a cluster's Function resources instead (cli.function_releases, operator.releasing).
new and test need no platform at all.
Heavy imports happen inside the commands.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from scaleplane.cli.app import app, fail, read_text
from scaleplane.cli.function_releases import Cluster, Context, Kubeconfig

if TYPE_CHECKING:
    from scaleplane.functions import catalog, definitions

fn = typer.Typer(
    name="fn",
    help=(
        "Functions: write one ([bold]fn new[/bold]), try it on mock data ([bold]fn test[/bold]), deploy it "
        "to the local platform's catalog ([bold]fn deploy[/bold]), call it through the gateway ([bold]fn call"
        "[/bold]), roll back to an earlier version, delete it. docs/functions.md walks through it."
    ),
    no_args_is_help=True,
    rich_markup_mode="rich",
)
app.add_typer(fn)

StateDir = Annotated[
    Path,
    typer.Option("--state-dir", help="The local platform's state directory (as for `scaleplane local`)."),
]
DEFAULT_STATE = Path(".scaleplane/local")
DESCRIPTOR = "function.yaml"


@fn.command("new", help="Write a function template: NAME/handler.py, NAME/function.yaml and NAME/mock.json.")
def new(
    name: Annotated[str, typer.Argument(help="The function's name (a DNS label: a-z, 0-9, -).")],
    namespace: Annotated[str, typer.Option("--namespace", help="Its namespace.")] = "default",
    directory: Annotated[Path, typer.Option("--dir", help="Where to create NAME/.")] = Path("."),
) -> None:
    import re

    from scaleplane.functions import routes

    for what, value in (("name", name), ("--namespace", namespace)):
        if not re.fullmatch(routes.NAME_PATTERN, value) or len(value) > 63:
            raise fail(f"{what} must be a DNS label (a-z, 0-9, -), was {value!r}")
    from scaleplane.functions import templates

    where = directory / name
    if where.exists():
        raise fail(f"{where} already exists; pick another name or --dir")
    where.mkdir(parents=True)
    (where / "handler.py").write_text(templates.HANDLER.format(name=name))
    (where / DESCRIPTOR).write_text(templates.DESCRIPTOR.format(name=name, namespace=namespace))
    (where / "mock.json").write_text(json.dumps(templates.MOCK_CASES, indent=2) + "\n")
    typer.echo(f"wrote {where}/handler.py, {DESCRIPTOR} and mock.json")
    typer.echo(f"try it:    scaleplane fn test {where}")
    typer.echo(f"deploy it: scaleplane fn deploy {where}   (with `scaleplane local up` running)")


def _definition(path: Path) -> definitions.FunctionDefinition:
    import yaml

    from scaleplane.functions import definitions

    descriptor = path / DESCRIPTOR if path.is_dir() else path
    if not descriptor.is_file():
        raise fail(
            f"{descriptor}: no such file (a function directory holds {DESCRIPTOR}; `scaleplane fn new`)"
        )
    try:
        document = yaml.safe_load(read_text(descriptor, "PATH"))
    except yaml.YAMLError as exc:
        raise fail(f"{descriptor}: not valid YAML: {exc}") from None
    if not isinstance(document, dict):
        raise fail(
            f"PATH: {descriptor}: expected a {definitions.KIND} mapping (kind, metadata, spec), "
            f"was {type(document).__name__}"
        )
    if document.get("kind") != definitions.KIND:
        raise fail(f"{descriptor}: kind must be {definitions.KIND}, was {document.get('kind')!r}")
    try:
        return definitions.parse(document, descriptor.name, descriptor)
    except definitions.DefinitionError as exc:
        raise fail(str(exc)) from None


@fn.command(
    "test", help="Run the handler in this process on mock data (mock.json) or on --params; no platform."
)
def test(
    path: Annotated[Path, typer.Argument(help="The function's directory (or its function.yaml).")],
    mock: Annotated[
        Path | None, typer.Option("--mock", help="Cases: [{params, expect | expectError}].")
    ] = None,
    params: Annotated[
        str | None, typer.Option("--params", help="One call's parameters, a JSON object.")
    ] = None,
) -> None:
    from scaleplane.functions import testing

    definition = _definition(path)
    if params is not None:
        try:
            parsed = json.loads(params)
        except ValueError as exc:
            raise fail(f"--params: not JSON: {exc}") from None
        if not isinstance(parsed, dict):
            raise fail(f"--params: must be a JSON object, was {params!r}")
        cases = [testing.Case({"params": parsed}, 1)]
    else:
        mock_path = mock or definition.source.parent / "mock.json"
        try:
            cases = testing.load_cases(mock_path)
        except testing.CaseError as exc:
            raise fail(str(exc)) from None
    try:
        results = testing.run(definition.handler_reference, cases)
    except Exception as exc:
        raise fail(f"{definition.spec.handler}: cannot load: {type(exc).__name__}: {exc}") from None
    for result in results:
        typer.echo(result.line())
    failed = [r for r in results if not r.passed]
    typer.echo(f"{len(results) - len(failed)} passed, {len(failed)} failed")
    if failed:
        raise typer.Exit(1)


def _platform(state_dir: Path) -> dict[str, Any]:
    from scaleplane.local import runfiles

    info = runfiles.read_platform(state_dir.resolve())
    if runfiles.supervisor(state_dir.resolve()) is None or not info or info.get("status") != "running":
        raise fail(f"no local platform runs from {state_dir}: start it with `scaleplane local up`", code=1)
    return info


def _catalog(state_dir: Path) -> catalog.Catalog:
    from scaleplane.functions import catalog
    from scaleplane.local.pools import functionhome

    redis_url = str(_platform(state_dir)["redis"]).rsplit("/", 1)[0]
    return catalog.Catalog(f"{redis_url}/{functionhome.CATALOG_DB}")


def _key(text: str) -> Any:
    from scaleplane.functions import catalog

    try:
        return catalog.parse_key(text)
    except catalog.CatalogError as exc:
        raise fail(str(exc)) from None


@fn.command("deploy", help="Store the function's code and settings as a new version; the platform runs it.")
def deploy(
    path: Annotated[Path, typer.Argument(help="The function's directory (or its function.yaml).")],
    note: Annotated[str, typer.Option("--note", help="Kept with the version (why this deploy).")] = "",
    state_dir: StateDir = DEFAULT_STATE,
    kubeconfig: Kubeconfig = None,
    context: Context = None,
    cluster: Cluster = False,
) -> None:
    from scaleplane.cli import function_releases as releases

    definition = _definition(path)
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
        from scaleplane.operator import releasing

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
    version = _catalog(state_dir).deploy(
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

    from scaleplane.cli import function_releases as releases

    if releases.wanted(kubeconfig, context, cluster):
        releases.list_cluster(kubeconfig, context, namespace, as_json)
        return

    info = _platform(state_dir)
    listing = _catalog(state_dir).listing()
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


@fn.command(
    "call",
    help="Call a function through a gateway and print its JSON result: the local platform's, or any "
    "gateway at --gateway URL (in a cluster: `kubectl -n scaleplane-system port-forward "
    "svc/scaleplane-gateway 8080:80`, then --gateway http://127.0.0.1:8080).",
)
def call(
    function: Annotated[str, typer.Argument(help="namespace/name")],
    params: Annotated[str, typer.Option("--params", help="The parameters, a JSON object.")] = "{}",
    timeout: Annotated[
        float, typer.Option("--timeout", help="Seconds for the whole call.", min=0.1, max=3600)
    ] = 30.0,
    token: Annotated[
        str | None, typer.Option("--token", envvar="SCALEPLANE_TOKEN", help="The namespace's token.")
    ] = None,
    gateway_url: Annotated[
        str | None,
        typer.Option(
            "--gateway",
            envvar="SCALEPLANE_GATEWAY_URL",
            help="The gateway's base URL (http[s]://HOST:PORT) instead of the local platform's.",
        ),
    ] = None,
    state_dir: StateDir = DEFAULT_STATE,
) -> None:
    import requests

    from scaleplane.functions import client

    try:
        parsed = json.loads(params)
    except ValueError as exc:
        raise fail(f"--params: not JSON: {exc}") from None
    if not isinstance(parsed, dict):
        raise fail(f"--params: must be a JSON object, was {type(parsed).__name__}")
    if gateway_url is not None:
        from urllib.parse import urlsplit

        try:
            parts = urlsplit(gateway_url)
            usable = parts.scheme in ("http", "https") and bool(parts.hostname) and parts.port != 0
        except ValueError:  # a port out of range, a broken IPv6 literal
            usable = False
        if not usable:
            raise fail(f"--gateway: must be an http(s)://HOST[:PORT] URL, was {gateway_url!r}")
    gateway = gateway_url or str(_platform(state_dir)["gateway"])
    try:
        result = client.Client(gateway, token=token, timeout=timeout).call(_key(function).__str__(), **parsed)
    except client.CallError as exc:
        raise fail(str(exc), code=1) from None
    except (
        requests.RequestException
    ) as exc:  # timed out, reset: the client retries those only when idempotent
        raise fail(
            f"{function}: no answer from the gateway {gateway}: {type(exc).__name__}", code=1
        ) from None
    typer.echo(json.dumps(result, indent=2))


@fn.command(
    "logs",
    help="The last lines of each instance's log (running and stopped ones), newest first; in a cluster "
    "(--cluster, --context, --kubeconfig) each instance pod's log, every line prefixed [POD].",
)
def logs(
    function: Annotated[str, typer.Argument(help="namespace/name")],
    lines: Annotated[
        int, typer.Option("--lines", "-n", help="Lines per instance.", min=1, max=1_000_000)
    ] = 20,
    since: Annotated[
        int | None,
        typer.Option("--since", help="In a cluster: only lines of the last SECONDS.", min=1, max=31_536_000),
    ] = None,
    follow: Annotated[
        bool,
        typer.Option("--follow", "-f", help="In a cluster: stream the lines as they come (Ctrl-C ends)."),
    ] = False,
    state_dir: StateDir = DEFAULT_STATE,
    kubeconfig: Kubeconfig = None,
    context: Context = None,
    cluster: Cluster = False,
) -> None:
    from scaleplane.cli import function_releases as releases
    from scaleplane.local import runfiles

    key = _key(function)
    if releases.wanted(kubeconfig, context, cluster):
        releases.logs_cluster(kubeconfig, context, key, lines, since, follow)
        return
    if since is not None or follow:
        raise fail("--since and --follow read a cluster's pod logs: add --cluster, --context or --kubeconfig")
    folder = runfiles.servers_dir(state_dir.resolve()) / f"{key.namespace}.{key.name}"
    found = (
        sorted(folder.glob("*.log"), key=lambda p: p.stat().st_mtime, reverse=True) if folder.is_dir() else []
    )
    if not found:
        raise fail(f"no instance of {function} has run from {state_dir} (nothing under {folder})", code=1)
    for path in found:
        typer.echo(f"==> {path.stem} ({path})")
        typer.echo("\n".join(path.read_text(errors="replace").splitlines()[-lines:]))


@fn.command("rollback", help="Make an earlier version current again (the one before, or --to N).")
def rollback(
    function: Annotated[str, typer.Argument(help="namespace/name")],
    to: Annotated[int | None, typer.Option("--to", help="The version to go back to.", min=1)] = None,
    state_dir: StateDir = DEFAULT_STATE,
    kubeconfig: Kubeconfig = None,
    context: Context = None,
    cluster: Cluster = False,
) -> None:
    from scaleplane.cli import function_releases as releases
    from scaleplane.functions import catalog

    if releases.wanted(kubeconfig, context, cluster):
        from scaleplane.operator import releasing

        key = _key(function)
        done = releases.run(
            kubeconfig, context, f"rollback {key}",
            lambda client: releasing.rollback(client, key.namespace, key.name, to),
        )  # fmt: skip
        typer.echo(f"{key} is at v{done.version} again; the operator rolls its pods back onto it")
        return

    try:
        version = _catalog(state_dir).rollback(_key(function), to)
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
    from scaleplane.cli import function_releases as releases
    from scaleplane.functions import catalog

    if releases.wanted(kubeconfig, context, cluster):
        from scaleplane.operator import releasing

        key = _key(function)
        gone = releases.run(
            kubeconfig,
            context,
            f"delete {key}",
            lambda client: releasing.delete(client, key.namespace, key.name),
        )
        typer.echo(f"deleted {key} and its {gone} version(s); its Deployment, Service and policy go with it")
        return

    try:
        _catalog(state_dir).delete(_key(function))
    except catalog.CatalogError as exc:
        raise fail(str(exc)) from None
    typer.echo(f"deleted {function}")


@fn.command(
    "gateway", help="Run a function gateway in the foreground from a settings file (functions.settings)."
)
def gateway(config: Annotated[Path, typer.Option("--config", help="The gateway's YAML settings.")]) -> None:
    from scaleplane.gateway import __main__ as gateway_main

    code = gateway_main.main(["--config", str(config)])
    if code:
        raise typer.Exit(code)
