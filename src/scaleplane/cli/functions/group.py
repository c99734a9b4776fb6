"""The `scaleplane fn` group and what its commands share: --state-dir, the running local platform
found from it, its function catalog, a `namespace/name` argument, and a function.yaml read into a
definition (every error one `error:` line naming the file).

The commands live by role: cli.functions.authoring (new, test), cli.functions.deploying (deploy,
list, rollback, delete), cli.functions.calling (call, logs, gateway), cli.functions.generation
(generate); the package imports them all and lists them in `--help` order. Heavy imports happen inside the
commands.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from scaleplane.cli.app import app, fail, read_text

if TYPE_CHECKING:
    from scaleplane.functions.authoring import catalog, definitions

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


def load_definition(path: Path) -> definitions.FunctionDefinition:
    import yaml

    from scaleplane.functions.authoring import definitions

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


def platform_info(state_dir: Path) -> dict[str, Any]:
    from scaleplane.local import runfiles

    info = runfiles.read_platform(state_dir.resolve())
    if runfiles.supervisor(state_dir.resolve()) is None or not info or info.get("status") != "running":
        raise fail(f"no local platform runs from {state_dir}: start it with `scaleplane local up`", code=1)
    return info


def open_catalog(state_dir: Path) -> catalog.Catalog:
    from scaleplane.functions.authoring import catalog
    from scaleplane.local.pools import functionhome

    redis_url = str(platform_info(state_dir)["redis"]).rsplit("/", 1)[0]
    return catalog.Catalog(f"{redis_url}/{functionhome.CATALOG_DB}")


def parse_key(text: str) -> Any:
    from scaleplane.functions.authoring import catalog

    try:
        return catalog.parse_key(text)
    except catalog.CatalogError as exc:
        raise fail(str(exc)) from None
