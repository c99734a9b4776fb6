"""Presets: the baselines keep the policy's metrics and take the originals' defaults; examples all load."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from scaleplane.scaling import specs
from scaleplane.scaling.simulating import presets, simulation

REPO = Path(__file__).resolve().parents[2]
MODEL = simulation.TargetModel(capacity_per_replica=0.5, startup_seconds=90)


def test_recommended_holds_demand_at_the_stated_utilization() -> None:
    spec = presets.recommended(MODEL, min_replicas=2, max_replicas=30)
    (metric,) = spec.metrics
    assert metric.target.type == "AverageValue"
    assert metric.target.value == pytest.approx(0.5 * presets.RECOMMENDED_UTILIZATION)
    assert (spec.min_replicas, spec.max_replicas) == (2, 30)
    assert spec.behavior.scale_down.stabilization_window_seconds == 90  # one start-up time
    assert spec.sizing is not None and spec.sizing.quantile == presets.RECOMMENDED_QUANTILE
    assert spec.forecast is None
    default = presets.recommended(simulation.TargetModel())
    assert default.behavior.scale_down.stabilization_window_seconds == presets.RECOMMENDED_SCALE_DOWN_WINDOW


def test_forecasting_adds_a_forecast_over_the_start_up_time() -> None:
    spec = presets.forecasting(MODEL)
    assert spec.forecast is not None and spec.forecast.startup_seconds == 90
    assert spec.metrics == presets.recommended(MODEL).metrics


def test_hpa_baseline_has_the_hpa_defaults_and_no_scale_to_zero() -> None:
    mine = presets.forecasting(MODEL, min_replicas=0)
    hpa = presets.hpa_default(mine)
    assert hpa.sync_seconds == 15
    assert hpa.spec.min_replicas == 1
    assert hpa.spec.behavior == specs.Behavior()  # the HPA v2 defaults, as specs defines them
    assert hpa.spec.forecast is None and hpa.spec.schedules == ()
    assert [m.target for m in hpa.spec.metrics] == [m.target for m in mine.metrics]


def test_keda_baseline_polls_every_30_s_cools_down_300_s_and_scales_to_zero() -> None:
    keda = presets.keda_default(presets.recommended(MODEL))
    assert keda.sync_seconds == 30
    assert keda.spec.min_replicas == 0
    assert keda.spec.cooldown_seconds == 300
    assert keda.spec.behavior == specs.Behavior()


def test_the_four_standard_presets_in_order() -> None:
    assert [p.name for p in presets.standard_presets(MODEL)] == ["hpa", "keda", "recommended", "forecast"]


EXAMPLES = sorted((REPO / "examples").glob("*.yaml"))


def test_there_are_examples_for_every_kind_of_capacity() -> None:
    names = {p.stem for p in EXAMPLES}
    assert {
        "workers-queue-depth",
        "read-replicas",
        "function-scale-to-zero",
        "scheduled-floor",
        "forecast",
    } <= names


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_example_is_a_valid_policy_manifest(path: Path) -> None:
    document = yaml.safe_load(path.read_text())
    assert document["apiVersion"] == "scaleplane.io/v1alpha1"
    assert document["kind"] == "ScalingPolicy"
    assert document["metadata"]["name"]
    specs.parse_policy(document["spec"])
