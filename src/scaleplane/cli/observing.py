"""`scaleplane observability generate`: the Grafana dashboards and Prometheus rules of dashboards/.

The files are generated from `scaleplane.observability` (dashboards with grafana-foundation-sdk, rules
from the alert and SLO definitions) and checked in; `--check` fails when they drift, as CI does.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from scaleplane.cli.app import app, fail

observability_app = typer.Typer(
    name="observability",
    help="Dashboards and alert rules as code: (re)generate dashboards/ or check it is up to date.",
    no_args_is_help=True,
)
app.add_typer(observability_app)


@observability_app.command("generate")
def generate(
    directory: Annotated[
        Path, typer.Argument(help="Where to write the dashboards (JSON) and rules/ (YAML).")
    ] = Path("dashboards"),
    check: Annotated[
        bool, typer.Option("--check", help="Only check that the files match the builders (exit 1 if not).")
    ] = False,
) -> None:
    """Write the Grafana dashboards and Prometheus rule files (or check them).

    The SLO rules use the objectives documented as the default of `monitoring.slos` in Pulumi.yaml; a
    stack with other objectives gets its own rules at deploy time (infra.monitoring).
    """
    from scaleplane.observability import generating

    if directory.exists() and not directory.is_dir():
        raise fail(f"{directory}: not a directory")
    if check:
        stale = generating.drift(directory)
        if stale:
            raise fail(
                f"{', '.join(str(directory / n) for n in stale)} differ from scaleplane.observability; "
                "run `scaleplane observability generate`",
                code=1,
            )
        typer.echo(f"{directory}: up to date")
        return
    for path in generating.write(directory):
        typer.echo(f"wrote {path}")
