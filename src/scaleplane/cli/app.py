"""The root Typer application that every command module adds to, and the one place errors and help are shaped.

Whatever a command raises reaches the user as one `error: ...` line on stderr, never a traceback:
`GuardedGroup` wraps every command (those added later too), so a command only has to
`raise fail("...")` for the errors it expects. Exit codes: 0 done, 1 the check found violations
(`check`, `operator crds --check`, `local status` with leftovers, `local doctor`), 2 an error (bad
input, a fault, a bug), 130 interrupted. An error the command did not expect is named as a bug;
`SCALEPLANE_DEBUG=1` lets its traceback through for the report.

Help text is written as hard-wrapped docstrings and strings; `GuardedGroup` also joins the lines of
each paragraph of every command's help (`flowing`), so it renders as flowing paragraphs at any
terminal width. A paragraph break is a blank line.
"""

from __future__ import annotations

import contextlib
import inspect
import os
import sys
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

import typer
import typer.core
from typer import exceptions as typer_exceptions
from typer._click import exceptions as click_exceptions  # typer's own click; its UsageError

DEBUG_ENV = "SCALEPLANE_DEBUG"


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print a clear error (never a traceback) and return the Exit to raise."""
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    return typer.Exit(code)


def report_drift(where: Path, stale: list[str], made_from: str, command: str) -> None:
    """The end of a `--check` of generated files: exit 1 naming each stale one, else say it is current."""
    if stale:
        names = ", ".join(str(where / name) for name in stale)
        raise fail(f"{names} differ from {made_from}; run `{command}`", code=1)
    typer.echo(f"{where}: up to date")


def describe_os_error(exc: OSError) -> str:
    """`state/controller.pid: not a directory` rather than `[Errno 20] Not a directory: '...'`."""
    where = exc.filename if exc.filename is not None else ""
    what = exc.strerror or str(exc)
    hints = {
        NotADirectoryError: " (a file is where a folder belongs)",
        IsADirectoryError: " (a folder is where a file belongs)",
        FileExistsError: " (something is already there)",
        PermissionError: " (check the owner and mode)",
    }
    return f"{where}: {what.lower()}{hints.get(type(exc), '')}" if where else what


def flowing(text: str | None) -> str | None:
    """Help text with each paragraph on one line, paragraphs still apart (a blank line between).

    typer's rich help keeps the single newlines of a paragraph (all but the first), so a hard-wrapped
    docstring printed broken mid-sentence at any width but the source's. A paragraph that starts
    with click's no-rewrap marker (\\b) is kept as written; so is whatever follows a \\f.
    """
    if not text:
        return text
    shown, cut, hidden = inspect.cleandoc(text).partition("\f")
    paragraphs = (p if p.startswith("\b") else " ".join(p.split()) for p in shown.split("\n\n"))
    return "\n\n".join(p for p in paragraphs if p) + cut + hidden


def _flow_help(command: Any) -> None:
    command.help = flowing(command.help)
    for sub in getattr(command, "commands", {}).values():
        _flow_help(sub)


class GuardedGroup(typer.core.TyperGroup):
    """The root group: runs the chosen command and turns any exception it lets out into `error: ...`.

    Typer builds it with every command and sub-group already in place, so its construction is where
    the help of all of them is made to flow (see `flowing`).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _flow_help(self)

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except click_exceptions.NoArgsIsHelpError:
            raise  # `scaleplane local` alone: the group's help, as before
        except click_exceptions.UsageError as exc:  # one line like every other error, not a panel
            where = exc.ctx.command_path if exc.ctx is not None else "scaleplane"
            raise fail(f"{exc.format_message()} (see `{where} --help`)") from None
        except (typer_exceptions.TyperException, typer_exceptions.Exit, typer_exceptions.Abort):
            raise  # usage errors, `raise fail(...)`, Ctrl-C at a prompt: already shaped
        except KeyboardInterrupt:
            raise fail("interrupted", code=130) from None
        except OSError as exc:  # a path the user gave that is not what it should be, a full disk...
            if os.environ.get(DEBUG_ENV):
                raise
            raise fail(describe_os_error(exc)) from None
        except Exception as exc:
            if os.environ.get(DEBUG_ENV):
                raise
            raise fail(
                f"internal error: {type(exc).__name__}: {exc} (a bug in scaleplane; run again with "
                f"{DEBUG_ENV}=1 for the traceback and report it)"
            ) from None


app = typer.Typer(
    name="scaleplane",
    cls=GuardedGroup,
    help=(
        "Autoscaling and infrastructure-as-code for platform teams: workers, read replicas and "
        "function containers under one policy language (ScalingPolicy).\n\n"
        "Exit codes: 0 done, 1 a check found violations, 2 an error (the message says which input)."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)


def version() -> str:
    try:
        return metadata.version("scaleplane")
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"scaleplane {version()}")
        raise typer.Exit()


@app.callback()
def root(
    show_version: bool = typer.Option(
        False,
        "--version",
        help="Print scaleplane's version and exit.",
        callback=_print_version,
        is_eager=True,
    ),
) -> None:
    """Autoscaling and infrastructure-as-code for platform teams."""


@contextlib.contextmanager
def spinner(what: str) -> Iterator[None]:
    """A spinner on stderr around work that takes more than a second; nothing when stderr is not a
    terminal (CI logs, pipes), so machine-readable stdout and captured logs stay clean."""
    if not sys.stderr.isatty():
        yield
        return
    from rich.console import Console

    with Console(stderr=True).status(what):
        yield


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
