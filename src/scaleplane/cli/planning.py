"""`scaleplane plan`: not implemented yet (issue 5)."""

from __future__ import annotations

from scaleplane.cli.app import app, fail


@app.command("plan", help="Plan a stack offline. Not implemented yet (issue 5).")
def plan() -> None:
    raise fail("'scaleplane plan' is not implemented yet (issue 5)")
