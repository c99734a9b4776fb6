"""A dashboard's time-series panels drawn from given data (no Grafana), and the CLI's clear errors."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scaleplane.cli import app as cli_app
from scaleplane.cli import observing  # noqa: F401  (registers the commands)
from scaleplane.observability import generating
from scaleplane.reporting import dashboards as drawn

OVERVIEW = generating.dashboards()["scaleplane-overview.json"]


def test_legend_fills_in_the_series_labels() -> None:
    labels = {"policy": "workers", "direction": "up"}
    assert drawn.legend("{{policy}} {{ direction }}", labels, "A") == "workers up"
    assert drawn.legend("{{policy}} {{missing}}", labels, "A") == "workers"
    assert drawn.legend("", labels, "A") == "A"


def test_every_timeseries_panel_with_data_is_drawn(tmp_path: Path) -> None:
    asked: list[str] = []

    def fetch(expr: str) -> drawn.Fetched:
        asked.append(expr)
        if "scaleplane_leader" in expr:  # a series with no sample in the window: not drawn
            return [({}, [math.nan] * 10)]
        return [
            ({"policy": "workers", "direction": "up", "reason": "scale_up"}, [float(i) for i in range(10)])
        ]

    path = drawn.draw(OVERVIEW, list(range(10)), fetch, tmp_path / "overview.png", substitute=str.upper)
    assert path.stat().st_size > 20_000
    panels = drawn.timeseries_panels(OVERVIEW)
    assert len(asked) == sum(len(p["targets"]) for p in panels)
    assert all(expr == expr.upper() for expr in asked)  # each query went through `substitute`


def test_nothing_to_draw_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no panel of 'scaleplane-overview' has data"):
        drawn.draw(OVERVIEW, [0.0, 1.0], lambda expr: [], tmp_path / "x.png")


def test_render_names_a_bad_dashboard_and_an_unreachable_prometheus(tmp_path: Path) -> None:
    runner = CliRunner()
    args = ["observability", "render", "--out", str(tmp_path / "x.png"), "--prometheus"]
    bad = runner.invoke(cli_app.app, [*args, "http://127.0.0.1:9", "--dashboard", "nope"])
    assert (
        bad.exit_code == 2
        and "error: --dashboard: no dashboard 'nope' (known: scaleplane-cache" in bad.output
    )
    down = runner.invoke(cli_app.app, [*args, "http://127.0.0.1:9"])
    assert down.exit_code == 2 and "error: --prometheus http://127.0.0.1:9:" in down.output
