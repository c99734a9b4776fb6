"""scaleplane.reporting: Markdown tables and timeline plots of named series."""

from __future__ import annotations

from pathlib import Path

import pytest

from scaleplane.reporting import markdown, plots


def test_table_right_aligns_numeric_columns_and_escapes_pipes() -> None:
    text = markdown.table(["run", "hours", "ratio"], [["a|b", 1.5, "1.20x"], ["c", 2, "-"]])
    assert text.splitlines() == [
        "| run | hours | ratio |",
        "|---|---:|---:|",
        "| a\\|b | 1.5 | 1.20x |",
        "| c | 2 | - |",
    ]


def test_table_refuses_ragged_rows() -> None:
    with pytest.raises(ValueError, match="every row needs 2 cells"):
        markdown.table(["a", "b"], [[1]])


def test_timeline_draws_panels_of_named_series_into_a_png(tmp_path: Path) -> None:
    at = [0.0, 15.0, 30.0, 45.0]
    path = plots.timeline(
        tmp_path / "t.png",
        at,
        [
            plots.Panel("load", "requests/s", [plots.Series("demand", [1, 2, 3, 2])]),
            plots.Panel(
                "replicas", "replicas", [plots.Series("policy", [1, 1, 2, 2], step=True, color="C1")]
            ),
        ],
        title="a timeline",
    )
    assert path.read_bytes().startswith(b"\x89PNG")


def test_timeline_names_a_series_of_the_wrong_length(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="series 'demand' has 2 values for 3 times"):
        plots.timeline(
            tmp_path / "t.png",
            [0, 1, 2],
            [plots.Panel("p", "u", [plots.Series("demand", [1, 2])])],
            title="x",
        )


def test_time_axis_switches_to_hours_beyond_three_hours() -> None:
    assert plots.time_unit(3 * 3600) == ("minutes", 60.0)
    assert plots.time_unit(3 * 3600 + 1) == ("hours", 3600.0)
