"""A small layer over grafana-foundation-sdk: one `Board` lays panels out and numbers them.

The SDK builds the dashboard model, its JSON and its layout (panels flow left to right, rows below);
what it leaves to the caller is unique panel ids, query refIds, and the shared data source variable.
`Board` does those once, so each dashboard module reads as a list of panels: title, meaning, queries.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from grafana_foundation_sdk.builders import dashboard, prometheus, stat, timeseries
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.dashboard import DataSourceRef, VariableRefresh

DATASOURCE = DataSourceRef(type_val="prometheus", uid="${datasource}")
TAGS = ["scaleplane"]


@dataclass(frozen=True)
class Query:
    expr: str
    legend: str = ""


class Board:
    def __init__(self, uid: str, title: str, description: str) -> None:
        self.builder = (
            dashboard.Dashboard(title)
            .uid(uid)
            .description(description)
            .tags(TAGS)
            .refresh("30s")
            .time("now-3h", "now")
            .timezone("browser")
            .with_variable(dashboard.DatasourceVariable("datasource").label("Data source").type("prometheus"))
        )
        self._next_id = 1

    def variable(self, name: str, label: str, query: str, *, include_all: bool = True) -> Board:
        """A variable filled from a series' label values (`label_values(series, label)`)."""
        variable = (
            dashboard.QueryVariable(name)
            .label(label)
            .query(query)
            .datasource(DATASOURCE)
            .refresh(VariableRefresh.ON_TIME_RANGE_CHANGED)
            .multi(include_all)
        )
        if include_all:
            variable = variable.include_all(True).all_value(".*")
        self.builder.with_variable(variable)
        return self

    def row(self, title: str) -> Board:
        self.builder.with_row(dashboard.Row(title).id(self._take_id()))
        return self

    def timeseries(
        self, title: str, description: str, queries: list[Query], *, unit: str = "short", width: int = 12
    ) -> Board:
        panel = timeseries.Panel().unit(unit).fill_opacity(10).line_width(1)
        return self._place(panel, title, description, queries, width, 8)

    def stat(
        self, title: str, description: str, queries: list[Query], *, unit: str = "short", width: int = 6
    ) -> Board:
        panel = stat.Panel().unit(unit)
        return self._place(panel, title, description, queries, width, 4, instant=True)

    def _place(
        self,
        panel: Any,
        title: str,
        description: str,
        queries: list[Query],
        width: int,
        height: int,
        *,
        instant: bool = False,
    ) -> Board:
        panel = panel.id(self._take_id()).title(title).description(description).datasource(DATASOURCE)
        for index, query in enumerate(queries):
            target = prometheus.Dataquery().expr(query.expr).ref_id(chr(ord("A") + index))
            if query.legend:
                target = target.legend_format(query.legend)
            panel = panel.with_target(target.instant() if instant else target.range())
        self.builder.with_panel(panel.span(width).height(height))
        return self

    def _take_id(self) -> int:
        taken, self._next_id = self._next_id, self._next_id + 1
        return taken

    def model(self) -> dict[str, Any]:
        """The dashboard's JSON model as plain data (what Grafana imports)."""
        data: dict[str, Any] = json.loads(json.dumps(self.builder.build(), cls=JSONEncoder))
        return data


def expressions(model: dict[str, Any]) -> list[tuple[str, str]]:
    """(panel title, expr) of every query in a dashboard model, rows included."""
    found: list[tuple[str, str]] = []
    for panel in model.get("panels", []):
        for inner in [panel, *panel.get("panels", [])]:
            for target in inner.get("targets") or []:
                if target.get("expr"):
                    found.append((str(inner.get("title")), str(target["expr"])))
    return found
