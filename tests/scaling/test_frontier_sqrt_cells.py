"""bench/frontier_sqrt.py's row: each scaleplane column read at the HPA default's SLO level."""

from __future__ import annotations

from bench import frontier_sqrt
from scaleplane.scaling.simulating.frontiers import Point


def _points(column: str, *runs: tuple[float, float, float]) -> list[Point]:
    return [Point(column, target, hours, minutes) for target, hours, minutes in runs]


def test_a_row_reads_every_column_at_the_hpa_defaults_level() -> None:
    points = [
        *_points("hpa", (0.7, 120.0, 2.0), (0.8, 100.0, 4.0), (0.9, 90.0, 8.0)),
        *_points("keda", (0.7, 118.0, 2.0), (0.8, 101.0, 4.0), (0.9, 90.0, 8.0)),
        # below both throughout, and its 80 % point beats the HPA default: 95 h at 4 min
        *_points("stdev (preset)", (0.7, 110.0, 2.0), (0.8, 95.0, 4.0), (0.9, 85.0, 8.0)),
        # cheaper at 4 min (80 h, from the 0.9 point) but its 80 % point violates more than the default
        *_points("sqrt beta 0.5", (0.7, 130.0, 3.0), (0.8, 99.0, 6.0), (0.9, 80.0, 4.0)),
        # never reaches 4 min or less
        *_points("sqrt beta 1.0", (0.8, 70.0, 9.0), (0.9, 60.0, 12.0)),
    ]
    cells = frontier_sqrt.cells(points, oracle_h=60.0)
    assert cells[:2] == ["100.00 / 4", "100.00"]
    assert cells[2] == "95.00 / 0.12 / 0 / 0 / yes"  # (100 - 95) / (100 - 60)
    assert cells[3] == "80.00 / 0.50 / 2 / 2 / no"  # above both at 2 min (unreached) and at 3 (130 h)
    assert cells[4] == "- / - / 3 / 3 / no"
