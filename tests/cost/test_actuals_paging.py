"""Cost Explorer answers in pages (NextPageToken); moto_server does not page, so a fake client pages here."""

from __future__ import annotations

from typing import Any

from scaleplane.cost import actuals


class PagingClient:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []

    def get_cost_and_usage(self, **request: Any) -> dict[str, Any]:
        self.requests.append(request)
        page = 1 if "NextPageToken" not in request else 2
        group = {
            "Keys": [f"team${'a' if page == 1 else 'b'}"],
            "Metrics": {"UnblendedCost": {"Amount": "2.5"}},
        }
        answer: dict[str, Any] = {
            "ResultsByTime": [{"TimePeriod": {"Start": f"2026-11-0{page}"}, "Groups": [group]}]
        }
        if page == 1:
            answer["NextPageToken"] = "page-2"
        return answer


def test_every_page_is_read_and_tag_keys_lose_their_prefix() -> None:
    client = PagingClient()
    rows = actuals.spend(client, "2026-11-01", "2026-11-03", ("TAG", "team"))
    assert [(r.day, r.group, r.usd) for r in rows] == [("2026-11-01", "a", 2.5), ("2026-11-02", "b", 2.5)]
    assert client.requests[0]["GroupBy"] == [{"Type": "TAG", "Key": "team"}]
    assert client.requests[0]["Metrics"] == ["UnblendedCost"] and client.requests[0]["Granularity"] == "DAILY"
    assert client.requests[1]["NextPageToken"] == "page-2"


def test_variances_are_named() -> None:
    rows = actuals.compare(
        {"a": 100.0, "b": 100.0, "c": 100.0, "d": 50.0}, {"a": 109.0, "b": 120.0, "c": 80.0, "e": 3.0}
    )
    verdicts = {row.service: row.verdict for row in rows}
    assert verdicts == {
        "a": "as estimated",
        "b": "over",
        "c": "under",
        "d": "no spend recorded",
        "e": "not estimated",
    }
