"""Per-pod samples from kube-state-metrics and cAdvisor answers: selection by the target's selector,
and every missing series read as the HPA reads the missing field."""

from __future__ import annotations

from typing import Any

import pytest

from scaleplane.metrics import pods, selectors, sources

NOW = 50_000.0


def series(*rows: tuple[dict[str, str], float]) -> sources.SeriesResult:
    return sources.SeriesResult(tuple(rows))


def pod(name: str, **labels: str) -> dict[str, str]:
    return {"namespace": "shop", "pod": name, **labels}


def answers(**overrides: Any) -> dict[str, sources.SeriesResult]:
    asked = pods.queries({"shop"}, {"cpu"})
    default = {
        "labels": series(
            (pod("web-1", label_app="web"), 1.0),
            (pod("web-2", label_app="web"), 1.0),
            (pod("web-3", label_app="web"), 1.0),
            (pod("api-1", label_app="api"), 1.0),
        ),
        "phase": series((pod("web-3", phase="Pending"), 1.0)),
        "deleting": series(),
        "ready": series((pod("web-1"), 1.0), (pod("web-2"), 0.0), (pod("api-1"), 1.0)),
        "ready_time": series((pod("web-1"), NOW - 3000)),
        "start": series((pod("web-1"), NOW - 3600), (pod("web-2"), NOW - 100), (pod("api-1"), 0.0)),
        "containers": series((pod("web-1", container="app"), 1.0), (pod("web-1", container="proxy"), 1.0)),
        "requests_cpu": series((pod("web-1", container="app"), 0.5), (pod("web-1", container="proxy"), 0.25)),
        "usage_cpu": series((pod("web-1", container="app"), 0.4), (pod("web-1", container="proxy"), 0.2)),
    }
    default.update(overrides)
    return {asked[key]: answer for key, answer in default.items()}


def test_the_selector_picks_the_pods_and_each_field_is_read_as_the_hpa_reads_it() -> None:
    table = pods.table(pods.queries({"shop"}, {"cpu"}), answers(), NOW)
    found, error = table.samples("shop", "app=web", "cpu", None)
    assert error is None and found is not None
    by_name = {p.name: p for p in found}
    assert sorted(by_name) == ["web-1", "web-2", "web-3"]  # api-1 is another workload's
    web1 = by_name["web-1"]
    assert (web1.usage, web1.request, web1.ready, web1.ready_since) == (
        pytest.approx(0.6),
        0.75,
        True,
        NOW - 3000,
    )
    assert by_name["web-2"].ready is False and by_name["web-2"].ready_since == NOW  # unready: time unknown
    assert by_name["web-2"].usage is None  # no cAdvisor series: a missing pod
    assert by_name["web-3"].phase == "Pending" and by_name["web-3"].ready is None  # no Ready condition yet
    one, _ = table.samples("shop", "app in (web)", "cpu", "proxy")
    assert one is not None and (one[0].usage, one[0].request) == (pytest.approx(0.2), 0.25)


def test_a_container_without_a_request_leaves_the_pod_without_one() -> None:
    table = pods.table(
        pods.queries({"shop"}, {"cpu"}),
        answers(requests_cpu=series((pod("web-1", container="app"), 0.5))),
        NOW,
    )
    found, _ = table.samples("shop", "app=web", "cpu", None)
    assert found is not None and found[0].request is None  # the calculator refuses: missing request


def test_failures_name_the_query_the_selector_or_the_allowlist() -> None:
    asked = pods.queries({"shop"}, {"cpu"})
    broken = pods.table(asked, answers(usage_cpu=sources.SeriesResult((), "no answer within 5 s")), NOW)
    assert broken.samples("shop", "app=web", "cpu", None)[1] == (
        f"cannot read the pods' usage_cpu ({asked['usage_cpu']}): no answer within 5 s"
    )
    table = pods.table(asked, answers(), NOW)
    _, unmatched = table.samples("shop", "app.kubernetes.io/name=web", "cpu", None)
    assert unmatched is not None and "--metric-labels-allowlist" in unmatched
    _, none = table.samples("shop", None, "cpu", None)
    assert none is not None and "no pod selector" in none


@pytest.mark.parametrize(
    ("text", "labels", "matched"),
    [
        ("app=web,tier!=db", {"label_app": "web", "label_tier": "front"}, True),
        ("app=web,tier!=db", {"label_app": "web", "label_tier": "db"}, False),
        ("app.kubernetes.io/name in (web,api)", {"label_app_kubernetes_io_name": "api"}, True),
        ("env notin (dev),canary", {"label_canary": "yes", "label_env": "prod"}, True),
        ("!canary", {"label_canary": "yes"}, False),
        ("", {}, True),
    ],
)
def test_label_selectors_match_kube_state_metrics_labels(
    text: str, labels: dict[str, str], matched: bool
) -> None:
    assert selectors.matches(selectors.parse(text), labels) is matched


def test_a_malformed_selector_is_refused() -> None:
    with pytest.raises(selectors.SelectorError, match="not a label selector"):
        selectors.parse("app=web,(x)")
