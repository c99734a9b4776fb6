"""Pareto frontiers, interpolation at an SLO level and the share of the gap closed, worked by hand."""

from __future__ import annotations

import pytest

from scaleplane.scaling.simulating import frontiers, simulation

P = frontiers.Point


def test_the_frontier_keeps_only_points_not_beaten_on_both_measures() -> None:
    points = [P("hpa", 0.5, 10, 0), P("hpa", 0.6, 9, 0), P("hpa", 0.7, 9.5, 2), P("hpa", 0.8, 7, 3)]
    assert [p.target for p in frontiers.pareto(points)] == [0.6, 0.8]


def test_hours_at_a_level_interpolate_between_frontier_points() -> None:
    frontier = [P("x", 0.5, 10, 0), P("x", 0.7, 8, 4), P("x", 0.9, 6, 10)]
    assert frontiers.hours_at(frontier, 0) == 10
    assert frontiers.hours_at(frontier, 2) == pytest.approx(9)
    assert frontiers.hours_at(frontier, 4) == 8
    assert frontiers.hours_at(frontier, 50) == 6  # more SLO budget than the cheapest point uses
    assert frontiers.hours_at([P("x", 0.9, 6, 3)], 2) is None  # never reaches that level


def test_gap_closed_is_the_share_of_the_hpa_to_oracle_distance() -> None:
    assert frontiers.gap_closed(100, 90, 80) == pytest.approx(0.5)
    assert frontiers.gap_closed(100, 105, 80) == pytest.approx(-0.25)
    assert frontiers.gap_closed(80, 80, 80) is None
    assert frontiers.gap_closed(None, 80, 70) is None


def test_compare_reads_the_level_off_the_hpa_default_and_prints_the_contract() -> None:
    points = [
        P("hpa", 0.5, 12, 0),
        P("hpa", 0.8, 10, 2),
        P("keda", 0.8, 10.5, 2),
        P("scaleplane", 0.5, 11, 0),
        P("scaleplane", 0.8, 9, 4),
        P("forecast", 0.8, 9, 6),
    ]
    result = frontiers.compare(points, oracle_replica_hours=8, hpa_target=0.8).public()
    assert set(result) == {"frontier", "oracle_replica_hours", "at_hpa_default_slo"}
    assert set(result["frontier"]) == set(frontiers.FAMILIES)
    assert set(result["frontier"]["hpa"][0]) == {"target", "replica_hours", "slo_violation_minutes"}
    at = result["at_hpa_default_slo"]
    assert at["slo_violation_minutes"] == 2
    assert at["hpa"] == 10 and at["keda"] == 10.5 and at["forecast"] is None
    assert at["scaleplane"] == 10  # halfway between (0, 11) and (4, 9)
    assert at["gap_closed"] == 0  # no better than the HPA at its own level


def test_at_a_budget_the_cheapest_family_depends_on_the_budget() -> None:
    points = [
        P("hpa", 0.5, 12, 0),
        P("hpa", 0.8, 8, 6),
        P("keda", 0.5, 11, 0),
        P("keda", 0.8, 10, 6),
        P("scaleplane", 0.8, 9, 4),
        P("forecast", 0.8, 9, 4),
    ]
    comparison = frontiers.compare(points, oracle_replica_hours=7, hpa_target=0.8)
    tight = frontiers.at_budget(comparison, 0)
    assert tight.hours == {"hpa": 12, "keda": 11, "scaleplane": None, "forecast": None}
    assert tight.cheapest == "keda"
    loose = frontiers.at_budget(comparison, 6)
    assert loose.cheapest == "hpa"  # the frontiers cross between the two budgets
    middle = frontiers.at_budget(comparison, 4).public()
    assert middle["hpa"] == pytest.approx(9.3333, abs=1e-4) and middle["scaleplane"] == 9
    assert middle["cheapest"] == "scaleplane"  # tied with the forecast: the first in FAMILIES
    assert middle["oracle"] == 7
    with pytest.raises(ValueError, match="minutes >= 0"):
        frontiers.at_budget(comparison, -1)


def test_promises_name_the_levels_where_scaleplane_is_above_and_check_the_dominance() -> None:
    points = [
        P("hpa", 0.5, 12, 0),
        P("hpa", 0.8, 10, 4),
        P("hpa", 0.95, 7, 8),
        P("keda", 0.5, 13, 0),
        P("keda", 0.8, 11, 4),
        P("scaleplane", 0.5, 11, 0),
        P("scaleplane", 0.8, 9, 6),  # spends less than the HPA default, violates more
        P("forecast", 0.8, 9, 6),
    ]
    comparison = frontiers.compare(points, oracle_replica_hours=6, hpa_target=0.8)
    checked = frontiers.promises(comparison, points)
    # at 4 min: scaleplane 11 + 4/6 x (9 - 11) = 9.67 < the HPA's 10; at 6: 9 > the HPA's 8.5; at 8:
    # 9 (its cheapest run) > 7. KEDA's frontier (13 at 0, 11 at 4 and after) is above scaleplane's.
    assert checked.above == {"hpa": [6, 8], "keda": []}
    assert not checked.frontier_at_or_below
    assert checked.recommended == points[6] and checked.dominates is False
    public = checked.public()
    assert public["frontier_above"] == {"hpa": [6, 8], "keda": []}
    assert public["recommended"] == {"target": 0.8, "replica_hours": 9, "slo_violation_minutes": 6}
    assert public["recommended_dominates_hpa_default"] is False
    below = [*points[:5], P("scaleplane", 0.5, 11, 0), P("scaleplane", 0.8, 7, 4), P("scaleplane", 0.9, 6, 8)]
    comparison = frontiers.compare(below, oracle_replica_hours=6, hpa_target=0.8)
    checked = frontiers.promises(comparison, below)
    assert checked.frontier_at_or_below and checked.dominates is True
    assert frontiers.promises(comparison, below, recommended_target=0.7).dominates is None  # no such run


def test_every_family_holds_the_swept_target() -> None:
    model = simulation.TargetModel(capacity_per_replica=2.0)
    for family in frontiers.FAMILIES:
        preset = frontiers.preset_for(family, model, 0.5, min_replicas=1, max_replicas=10)
        assert preset.spec.metrics[0].target.value == pytest.approx(1.0)
    with pytest.raises(ValueError, match="unknown family"):
        frontiers.preset_for("vpa", model, 0.5, min_replicas=1, max_replicas=10)
