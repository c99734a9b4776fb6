"""`scaleplane fn generate`: a function and its tests from a description (functions.authoring.generating)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from scaleplane.cli.app import fail
from scaleplane.cli.functions.group import (
    DEFAULT_STATE,
    StateDir,
    fn,
    load_definition,
    open_catalog,
    platform_info,
)


@fn.command(
    "generate",
    help=(
        "Ask an OpenAI-compatible chat endpoint (llama.cpp, vLLM, Ollama or a hosted one) for a function and "
        "its unit tests from DESCRIPTION, run the tests in a sandbox (no network, time and memory limits), "
        "and with --deploy deploy it only if they all pass. The prompt, the answer and the test results are "
        "kept in generation.json and with the version."
    ),
)
def generate(
    description: Annotated[str, typer.Argument(help="What the function does, in plain words.")],
    name: Annotated[str, typer.Option("--name", help="The function's name (a DNS label).")],
    endpoint: Annotated[
        str, typer.Option("--endpoint", envvar="SCALEPLANE_LLM_URL", help="The chat server's base URL.")
    ],
    model: Annotated[str, typer.Option("--model", envvar="SCALEPLANE_LLM_MODEL", help="The model to ask.")],
    namespace: Annotated[str, typer.Option("--namespace", help="Its namespace.")] = "default",
    directory: Annotated[Path, typer.Option("--dir", help="Where to write NAME/.")] = Path("."),
    deploy_it: Annotated[bool, typer.Option("--deploy", help="Deploy it when every test passes.")] = False,
    timeout: Annotated[float, typer.Option("--test-timeout", help="Seconds for the tests.", min=1)] = 20.0,
    memory: Annotated[
        int, typer.Option("--test-memory", help="MiB of address space for the tests.", min=64)
    ] = 512,
    state_dir: StateDir = DEFAULT_STATE,
) -> None:
    import os

    from scaleplane.functions.authoring import generating

    where = directory / name
    if where.exists():
        raise fail(f"{where} already exists; pick another name or --dir")
    if deploy_it:
        platform_info(state_dir)  # refuse before asking the model, not after
    try:
        result = generating.generate(
            description, where, name=name, namespace=namespace, endpoint=endpoint, model=model,
            api_key=os.environ.get("SCALEPLANE_LLM_API_KEY"), timeout_seconds=timeout, memory_mb=memory,
        )  # fmt: skip
    except generating.GenerationError as exc:
        raise fail(str(exc), code=1) from None
    for test in result.tests:
        typer.echo(
            f"{'PASS' if test['ok'] else 'FAIL'} {test['test']}"
            + ("" if test["ok"] else f": {test['error']}")
        )
    typer.echo(
        f"wrote {where}/ (handler.py, test_handler.py, function.yaml, generation.json); "
        f"sandbox: {result.sandbox}"
    )
    if not result.passed:
        raise fail(
            "the generated tests did not all pass: not deployed (read and fix the files, then fn deploy)",
            code=1,
        )
    if deploy_it:
        definition = load_definition(where)
        version = open_catalog(state_dir).deploy(
            definition.key, definition.spec, "handler.py", (where / "handler.py").read_text(),
            f"generated: {description[:200]}", result.record,
        )  # fmt: skip
        typer.echo(f"deployed {definition.key} v{version.version}")
