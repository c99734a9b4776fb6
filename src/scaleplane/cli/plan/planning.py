"""`scaleplane plan`: the stack's offline plan, printed, as JSON, or written as Kubernetes manifests.

Nothing here talks to a cloud or needs the Pulumi CLI: the program runs in this process under
Pulumi's mocks (cli.stacks, scaleplane.infra.planning); how the plan reads is cli.plan.previews.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import typer

from scaleplane.cli import stacks
from scaleplane.cli.app import app, describe_os_error, fail
from scaleplane.cli.plan import previews

ManifestsOption = typer.Option(
    None,
    "--manifests",
    help="Write the stack's Kubernetes objects to this folder instead of printing the plan: one manifest "
    "per object in apply order, each Helm release's values under helm/ (charts are not rendered: install "
    "those releases first).",
    file_okay=False,
)


@app.command(
    "plan", help="Plan a stack offline (Pulumi mocks, no cloud, no Pulumi CLI): what it would create."
)
def plan(
    stack: str = stacks.StackOption,
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object instead of tables."),
    config_file: Path | None = stacks.ConfigFileOption,
    project_dir: Path | None = stacks.ProjectOption,
    manifests: Path | None = ManifestsOption,
) -> None:
    if manifests is not None:
        _write_manifests(stack, config_file, project_dir, manifests)
        return
    result = stacks.offline_plan(stack, config_file, project_dir)
    if as_json:
        typer.echo(json.dumps(previews.as_json(result), indent=2, sort_keys=False))
        return
    typer.echo("\n".join(previews.plan_lines(result, shutil.get_terminal_size((80, 24)).columns)))


def _write_manifests(stack: str, config_file: Path | None, project_dir: Path | None, directory: Path) -> None:
    from scaleplane.infra import manifests

    try:
        manifests.check_folder(directory)
    except manifests.NotOurFolder as exc:
        raise fail(f"--manifests: {exc}; give an empty or new folder") from None
    except OSError as exc:
        raise fail(f"--manifests: {describe_os_error(exc)}") from None
    result = stacks.offline_plan(stack, config_file, project_dir)
    rendering = manifests.render(result.resources)
    try:
        written = manifests.write(rendering, directory)
    except manifests.NotOurFolder as exc:
        raise fail(f"--manifests: {exc}; give an empty or new folder") from None
    except OSError as exc:
        raise fail(f"--manifests: {describe_os_error(exc)}") from None
    typer.echo(f"{result.stack}: {len(rendering.objects)} objects written to {directory}/ (apply order)")
    for release in rendering.releases:
        values = directory / "helm" / f"{release.name}.values.yaml"
        typer.echo(f"  Helm release {release.name} (not rendered): {release.install_command(str(values))}")
    for name, why in rendering.withheld.items():
        typer.echo(f"  withheld {name}: {why}")
    typer.echo(f"  {len(written)} files; apply with: kubectl apply -f {directory}/")
