"""`scaleplane simulate` over a request log with a ten-year gap: runs end to end, not one step per tick.

The same two busy spans a short gap apart and ten years apart must give the same SLO minutes and the
same replica-hours plus minReplicas x the extra idle hours, and the ten-year one must not cost a step
(or a CSV row, or a plot point) per 15 s tick of the gap: 21 million of them would take minutes.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from tests.cli.test_simulate import run

TEN_YEARS = 10 * 365 * 86400  # seconds: a whole number of 15 s ticks
SHORT = 3600  # an hour: long enough for every policy to scale back to minReplicas


def request_log(path: Path, gap: int) -> Path:
    """Two 20-minute busy spans (1, 3 and 5 requests/s in turn, per 5 minutes) `gap` seconds apart."""
    rows = ["TIMESTAMP"]
    for begin in (1_450_000_000, 1_450_000_000 + 1200 + gap):
        for second in range(1200):
            per_second = 1 + 2 * ((second // 300) % 3)
            rows += [f"{begin + second + i / per_second:.3f}" for i in range(per_second)]
    path.write_text("\n".join(rows) + "\n")
    return path


@pytest.mark.parametrize("baseline", [[], ["--baseline", "keda"]])
def test_a_ten_year_gap_costs_its_idle_replicas_and_nothing_else(tmp_path: Path, baseline: list[str]) -> None:
    near = request_log(tmp_path / "near.csv", SHORT)
    far = request_log(tmp_path / "far.csv", TEN_YEARS)
    code, out, err = run("--trace", str(near), "--json", *baseline)
    assert code == 0, err
    short = json.loads(out)
    timeline = tmp_path / "far-timeline.csv"
    report = tmp_path / "report"
    code, out, err = run(
        "--trace", str(far), "--json", "--report", str(report), "--timeline", str(timeline), *baseline
    )
    assert code == 0, err
    long = json.loads(out)
    assert long["ticks"] == short["ticks"] + (TEN_YEARS - SHORT) // 15
    idle_hours = (TEN_YEARS - SHORT) / 3600
    runs = [(short, long, 1)] + ([(short["baseline"], long["baseline"], 0)] if baseline else [])
    for near_run, far_run, low in runs:  # the recommended policy idles at 1 replica, KEDA at 0
        assert far_run["slo_violation_minutes"] == near_run["slo_violation_minutes"]
        assert far_run["replica_hours"] == pytest.approx(
            near_run["replica_hours"] + low * idle_hours, abs=1e-3
        )
        assert far_run["oracle_replica_hours"] == pytest.approx(
            near_run["oracle_replica_hours"] + low * idle_hours, abs=1e-3
        )
        assert far_run["scale_events"] == near_run["scale_events"]
    assert (report / "simulate.png").stat().st_size > 0
    assert f"{long['ticks']} ticks of 15 s" in (report / "simulate.md").read_text()
    with timeline.open() as rows:
        written = list(csv.DictReader(rows))
    assert len(written) < 20_000  # written as runs: a row where a value changes, not one per tick
    assert written[-1]["t"] == f"{(long['ticks'] - 1) * 15:g}"


def test_the_frontier_over_a_ten_year_gap_is_the_short_gaps_plus_its_idle_replicas(tmp_path: Path) -> None:
    # Every family skips the gap, the forecast one too (its error tracking moves in time): stepping
    # the forecast family over 21 million ticks per target took minutes (docs/benchmarks.md).
    fronts = []
    for name, gap in (("near", SHORT), ("far", TEN_YEARS)):
        code, out, err = run(
            "--trace", str(request_log(tmp_path / f"{name}.csv", gap)), "--frontier", "--json"
        )
        assert code == 0, err
        fronts.append(json.loads(out)["frontier"])
    short, long = fronts
    idle_hours = (TEN_YEARS - SHORT) / 3600
    assert set(long) == {"hpa", "keda", "scaleplane", "forecast"}
    for family, low in (("hpa", 1), ("keda", 0), ("scaleplane", 1), ("forecast", 1)):
        assert [p["target"] for p in long[family]] == [p["target"] for p in short[family]]
        for near_point, far_point in zip(short[family], long[family], strict=True):
            assert far_point["slo_violation_minutes"] == near_point["slo_violation_minutes"]
            assert far_point["replica_hours"] == pytest.approx(
                near_point["replica_hours"] + low * idle_hours, abs=1e-2
            )
