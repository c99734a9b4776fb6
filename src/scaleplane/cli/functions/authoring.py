"""`scaleplane fn new | test`: write a function from the template and try it on mock data, in this
process; neither needs a platform."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from scaleplane.cli.app import fail
from scaleplane.cli.functions.group import DESCRIPTOR, fn, load_definition


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
    from scaleplane.functions.authoring import templates

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
    from scaleplane.functions.authoring import testing

    definition = load_definition(path)
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
