"""`scaleplane simulate`: not implemented yet (issue 2)."""

from __future__ import annotations

from scaleplane.cli.app import app, fail


@app.command("simulate", help="Replay a demand trace through the engine. Not implemented yet (issue 2).")
def simulate() -> None:
    raise fail("'scaleplane simulate' is not implemented yet (issue 2)")
