"""The root Typer application that every command module adds to."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="scaleplane",
    help=(
        "Autoscaling and infrastructure-as-code for platform teams: workers, read replicas and "
        "function containers under one policy language (ScalingPolicy)."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print a clear error (never a traceback) and return the Exit to raise."""
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    return typer.Exit(code)
