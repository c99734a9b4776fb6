"""Resource metrics (`type: Resource`) in the engine: per-pod samples through the HPA's calculator.

The observation brings one `utilization.PodSample` per pod the target's selector lists; this module
asks `utilization` for the count and turns its answer into the engine's MetricRecommendation:

    target Utilization N   value = the pods' integer utilization (percent of their requests)
    target AverageValue Q  value = the average usage per sampled pod (cores, or bytes)

Both directions' tolerances are the policy's (`behavior.scaleUp/scaleDown.tolerance`); the CPU
initialization period (300 s) and the initial readiness delay (30 s) are the HPA controller's defaults.
At zero replicas there are no pods: the metric recommends 0 and does not fail (the HPA is disabled at
zero too; a query metric wakes the target). Any of the calculator's own errors (no pods, no metrics
for a ready pod, a pod without a request) makes the metric fail, so the engine holds the count
rather than scale on a partial view, as the HPA does.
"""

from __future__ import annotations

from scaleplane.scaling import decisions, specs
from scaleplane.scaling.deciding import recommending, utilization


def recommend(
    metric: specs.MetricSpec,
    sample: decisions.MetricSample | None,
    current: int,
    tolerances: recommending.Tolerances,
    now: float,
) -> decisions.MetricRecommendation:
    source = metric.resource
    assert source is not None  # the engine sends only Resource metrics here
    goal = source.target
    kind = "Utilization" if goal.type == "Utilization" else "AverageValue"

    def failed(why: str) -> decisions.MetricRecommendation:
        return decisions.MetricRecommendation(
            metric.name, None, goal.level, kind, None, note=f"failed: {why}"
        )

    if sample is not None and sample.error is not None:
        return failed(sample.error)
    pods = list(sample.pods or ()) if sample is not None else []
    if current == 0 and not pods:
        return decisions.MetricRecommendation(metric.name, None, goal.level, kind, 0, note="no pods at zero")
    if sample is None or sample.pods is None:
        return failed("no per-pod sample (the metrics source did not read this target's pods)")
    settings = utilization.CalculatorSettings(tolerance_up=tolerances.up, tolerance_down=tolerances.down)
    try:
        if goal.average_utilization is not None:
            found = utilization.resource_replicas(
                current, goal.average_utilization, pods, source.name, now, settings
            )
            value = found.utilization
        else:
            found = utilization.average_value_replicas(current, goal.level, pods, source.name, now, settings)
            value = found.utilization / 1000.0  # the calculator's milli-units back to cores or bytes
    except utilization.UtilizationError as exc:
        return failed(str(exc))
    ratio = value / goal.level
    notes = []
    untolerated = recommending.ceil_replicas(ratio * found.ready_pods)
    if found.replicas == current and tolerances.contain(ratio) and untolerated != current:
        notes.append("tolerance")
    if found.missing:
        notes.append(f"{len(found.missing)} pod(s) without metrics")
    if found.set_aside:
        notes.append(f"{len(found.set_aside)} pod(s) not ready set aside")
    return decisions.MetricRecommendation(
        metric.name,
        value,
        goal.level,
        kind,
        recommending.ceil_replicas(found.replicas),
        note="; ".join(notes),
    )


def resolved(
    observation: decisions.Observation, recommendations: tuple[decisions.MetricRecommendation, ...]
) -> decisions.Observation:
    """The observation with each Resource metric's computed value in its sample, for the rules that
    read samples after the recommendations (history for the forecast and sizing)."""
    by_name = {rec.metric: rec for rec in recommendations}
    samples = []
    for sample in observation.samples:
        rec = by_name.get(sample.name)
        if sample.pods is not None and rec is not None:
            error = None if rec.value is not None else rec.note.removeprefix("failed: ") or "no value"
            sample = decisions.MetricSample(sample.name, rec.value, error, sample.pods)
        samples.append(sample)
    return decisions.Observation(
        observation.at, observation.current_replicas, observation.ready_replicas, tuple(samples)
    )
