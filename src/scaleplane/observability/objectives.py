"""Service level objectives, and the multi-window multi-burn-rate rules generated from them.

The method is the Google SRE workbook's (chapter "Alerting on SLOs"), as Sloth and Pyrra generate it:
an objective of 99.9 % over 30 days leaves an error budget of 0.1 %; the error ratio over a window
divided by that budget is the burn rate (1 = the budget lasts exactly the 30 days). Two alerts per
objective, each the OR of two window pairs; a pair fires only when the long window (enough data to
matter) and the short one (still burning now, so it resolves soon after the fault) both burn:

    page   (critical)  1h and 5m  burn > 14.4   (2 % of the budget gone in an hour)
                       6h and 30m burn > 6      (5 % in six hours)
    ticket (warning)   1d and 2h  burn > 3      (10 % in a day)
                       3d and 6h  burn > 1      (the budget would run out before the period ends)

Queries are PromQL with `{{window}}` where the range goes, e.g. `sum(rate(x_total[{{window}}]))`.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel

from scaleplane.observability import rules

WINDOW_TOKEN = "{{window}}"
PAGE = (("1h", "5m", 14.4), ("6h", "30m", 6.0))
TICKET = (("1d", "2h", 3.0), ("3d", "6h", 1.0))
WINDOWS = ("5m", "30m", "1h", "2h", "6h", "1d", "3d")
FAST_ALERT = "ScaleplaneSLOErrorBudgetBurnFast"
SLOW_ALERT = "ScaleplaneSLOErrorBudgetBurnSlow"


class Objective(BaseModel):
    """One objective of one service (`monitoring.slos[]` in stack config)."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True)

    service: Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]*$")]
    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]*$")]
    objective: Annotated[float, Field(gt=0, lt=100)]  # percent of good events, e.g. 99.9
    description: str = ""
    error_query: Annotated[str, Field(min_length=1)]  # bad events per second over {{window}}
    total_query: Annotated[str, Field(min_length=1)]  # all events per second over {{window}}

    @field_validator("error_query", "total_query")
    @classmethod
    def _has_window(cls, query: str) -> str:
        if WINDOW_TOKEN not in query:
            raise ValueError(f"must contain {WINDOW_TOKEN} where the range goes, was {query!r}")
        return query

    @property
    def budget(self) -> float:
        """The error budget as a ratio: 99.9 % -> 0.001."""
        return round(1 - self.objective / 100, 10)

    @property
    def selector(self) -> str:
        return f'slo_service="{self.service}", slo_name="{self.name}"'


# The seed teams' targets for the API (the sample app the local platform runs publishes these series):
# 99.99 % of requests answer without a 5xx, and 95 % of them within 100 ms (p95 under 100 ms).
DEFAULTS: tuple[Objective, ...] = (
    Objective(
        service="api",
        name="availability",
        objective=99.99,
        description="Requests answered without a server error.",
        # No 5xx series at all is zero errors, not "no data".
        error_query='(sum(rate(sample_http_requests_total{status=~"5.."}[{{window}}])) or vector(0))',
        total_query="sum(rate(sample_http_requests_total[{{window}}]))",
    ),
    Objective(
        service="api",
        name="latency",
        objective=95,
        description="Requests answered within 100 ms (p95 under 100 ms).",
        error_query=(
            "(sum(rate(sample_http_request_seconds_count[{{window}}]))"
            ' - sum(rate(sample_http_request_seconds_bucket{le="0.1"}[{{window}}])))'
        ),
        total_query="sum(rate(sample_http_request_seconds_count[{{window}}]))",
    ),
)


def error_ratio(window: str) -> str:
    return f"slo:sli_error:ratio_rate{window}"


def records(slo: Objective) -> tuple[rules.Record, ...]:
    labels = (("slo_service", slo.service), ("slo_name", slo.name))
    found = [
        rules.Record(
            error_ratio(window),
            f"({slo.error_query.replace(WINDOW_TOKEN, window)})"
            f" / ({slo.total_query.replace(WINDOW_TOKEN, window)})",
            labels,
        )
        for window in WINDOWS
    ]
    found.append(rules.Record("slo:objective:ratio", f"vector({slo.objective / 100:.6g})", labels))
    found.append(rules.Record("slo:error_budget:ratio", f"vector({slo.budget:.6g})", labels))
    return tuple(found)


def _burning(slo: Objective, pairs: tuple[tuple[str, str, float], ...]) -> str:
    parts = [
        f"(max({error_ratio(long)}{{{slo.selector}}}) > ({factor:g} * {slo.budget:.6g})"
        f" and max({error_ratio(short)}{{{slo.selector}}}) > ({factor:g} * {slo.budget:.6g}))"
        for long, short, factor in pairs
    ]
    return " or ".join(parts)


def alerts(slo: Objective) -> tuple[rules.Alert, ...]:
    labels = (("slo_service", slo.service), ("slo_name", slo.name))
    what = f"{slo.service} {slo.name} ({slo.objective:g} %)"
    return (
        rules.Alert(
            FAST_ALERT,
            expr=_burning(slo, PAGE),
            signal=f"max({error_ratio('1h')}{{{slo.selector}}}) / {slo.budget:.6g}",
            hold="2m",
            severity="critical",
            summary=f"{what} burns its error budget fast.",
            description=(
                f"{what} burns its 30-day error budget at over 6 times the sustainable rate: at this pace "
                "it is gone within days. Error ratio over the long window: {{ $value | humanizePercentage }}."
            ),
            labels=labels,
        ),
        rules.Alert(
            SLOW_ALERT,
            expr=_burning(slo, TICKET),
            signal=f"max({error_ratio('1d')}{{{slo.selector}}}) / {slo.budget:.6g}",
            hold="15m",
            severity="warning",
            summary=f"{what} burns its error budget faster than it lasts.",
            description=(
                f"{what} has burned its error budget over 1 and 3 days faster than the 30 days it must "
                "last: the objective will be missed this period unless it improves."
            ),
            labels=labels,
        ),
    )


def group(slos: tuple[Objective, ...]) -> rules.Group:
    found: list[rules.Alert | rules.Record] = []
    for slo in slos:
        found += records(slo)
    for slo in slos:
        found += alerts(slo)
    return rules.Group("scaleplane.slos", tuple(found))
