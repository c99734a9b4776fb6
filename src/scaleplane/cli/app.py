"""The root Typer application that every command module adds to."""

from __future__ import annotations

from pathlib import Path

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


def read_text(path: Path, option: str) -> str:
    """The text of a file the user named with `option`, or `error: ...` and exit 2 saying why not."""
    try:
        return path.read_text()
    except FileNotFoundError:
        raise fail(f"{option}: {path} does not exist") from None
    except IsADirectoryError:
        raise fail(f"{option}: {path} is a folder; give a file") from None
    except UnicodeDecodeError:
        raise fail(f"{option}: {path} is not a text file") from None
    except OSError as exc:
        raise fail(f"{option}: cannot read {path} ({exc.strerror or exc})") from None
