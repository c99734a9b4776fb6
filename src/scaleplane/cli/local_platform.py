"""`scaleplane demo`: not implemented yet (issue 4)."""

from __future__ import annotations

from scaleplane.cli.app import app, fail


@app.command("demo", help="Run the whole loop on this machine. Not implemented yet (issue 4).")
def demo() -> None:
    raise fail("'scaleplane demo' is not implemented yet (issue 4)")
