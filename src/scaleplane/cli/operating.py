"""`scaleplane operator`: not implemented yet (issue 3)."""

from __future__ import annotations

from scaleplane.cli.app import app, fail


@app.command("operator", help="Run the Kubernetes operator. Not implemented yet (issue 3).")
def operator() -> None:
    raise fail("'scaleplane operator' is not implemented yet (issue 3)")
