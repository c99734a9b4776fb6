"""The SLO dashboard: each declared objective, its error budget left and its burn rates.

Reads only the recording rules `objectives` generates (`slo:sli_error:ratio_rate<window>`,
`slo:objective:ratio`, `slo:error_budget:ratio`), so it shows every objective in stack config.
"""

from __future__ import annotations

from typing import Any

from scaleplane.observability.boards import Board, Query

ONE = 'slo_service=~"$service"'
BY = "slo_service, slo_name"


def slos() -> dict[str, Any]:
    board = Board(
        "scaleplane-slos",
        "Scaleplane / SLOs",
        "Each service level objective: how much of the 30-day error budget is left, and how fast it burns.",
    )
    board.variable("service", "Service", "label_values(slo:objective:ratio, slo_service)")
    budget_left = (
        f"1 - (max by ({BY}) (avg_over_time(slo:sli_error:ratio_rate5m{{{ONE}}}[30d]))"
        f" / max by ({BY}) (slo:error_budget:ratio{{{ONE}}}))"
    )
    board.stat(
        "Error budget left (30 d)",
        "1 - errors spent / errors allowed, over the last 30 days (or all data there is).",
        [Query(budget_left, "{{slo_service}} {{slo_name}}")],
        unit="percentunit",
        width=12,
    )
    board.stat(
        "Objective",
        "The declared objective (good events over all events).",
        [Query(f"max by ({BY}) (slo:objective:ratio{{{ONE}}})", "{{slo_service}} {{slo_name}}")],
        unit="percentunit",
        width=12,
    )
    board.timeseries(
        "Burn rate (1 h and 6 h)",
        "Error ratio over the error budget: 1 spends the budget in exactly 30 days; the page fires over 14.4 "
        "(1 h) or 6 (6 h).",
        [
            Query(
                f"max by ({BY}) (slo:sli_error:ratio_rate1h{{{ONE}}}) / on ({BY}) "
                f"max by ({BY}) (slo:error_budget:ratio{{{ONE}}})",
                "{{slo_name}} 1h",
            ),
            Query(
                f"max by ({BY}) (slo:sli_error:ratio_rate6h{{{ONE}}}) / on ({BY}) "
                f"max by ({BY}) (slo:error_budget:ratio{{{ONE}}})",
                "{{slo_name}} 6h",
            ),
        ],
    )
    board.timeseries(
        "Error ratio (5 m)",
        "Bad events over all events, every 5 minutes, against the budget.",
        [
            Query(f"max by ({BY}) (slo:sli_error:ratio_rate5m{{{ONE}}})", "{{slo_name}}"),
            Query(f"max by ({BY}) (slo:error_budget:ratio{{{ONE}}})", "{{slo_name}} budget"),
        ],
        unit="percentunit",
    )
    board.timeseries(
        "Error budget left over time",
        "How the 30-day budget has been spent.",
        [Query(budget_left, "{{slo_service}} {{slo_name}}")],
        unit="percentunit",
        width=24,
    )
    return board.model()
