"""The two checks of `simulate --frontier`, in words: each case of the sentences, on hand-made checks."""

from __future__ import annotations

from scaleplane.reporting import frontiers as frontier_report
from scaleplane.scaling.simulating import frontiers

P = frontiers.Point
DEFAULT = P("hpa", 0.8, 10, 4)


def said(promises: frontiers.Promises) -> str:
    return " ".join(frontier_report.promise_sentences(promises))


def test_at_or_below_and_dominating() -> None:
    text = said(frontiers.Promises({"hpa": [], "keda": []}, P("scaleplane", 0.8, 9, 4), DEFAULT, 0))
    assert "at or below the HPA's and KEDA's at every SLO level they reach" in text
    assert "(target 0.8), 9.00 replica-hours and 4 SLO-violation minutes, Pareto-dominates" in text


def test_levels_above_and_levels_not_reached_are_told_apart() -> None:
    checked = frontiers.Promises({"hpa": [2, 6], "keda": [2]}, P("scaleplane", 0.8, 9, 6), DEFAULT, 4)
    text = said(checked)
    assert "needs more replica-hours than the HPA's at 6 SLO-violation minutes" in text  # 2 < its best, 4
    assert "does not reach 2 SLO-violation minutes, which a baseline does" in text
    assert "does not Pareto-dominate the HPA default (10.00 and 4): it spends less but violates more" in text


def test_each_way_of_not_dominating_and_a_sweep_without_the_recommended_target() -> None:
    def verdict(hours: float, minutes: float) -> str:
        return said(
            frontiers.Promises({"hpa": [], "keda": []}, P("scaleplane", 0.8, hours, minutes), DEFAULT, 0)
        )

    assert "it spends more and violates more" in verdict(11, 5)
    assert "it violates no more but spends more" in verdict(11, 4)
    assert "it spends no more but violates more" in verdict(10, 5)
    missing = said(frontiers.Promises({"hpa": [], "keda": []}, None, DEFAULT, 0))
    assert "no run of the recommended preset's target, so it is not compared" in missing
