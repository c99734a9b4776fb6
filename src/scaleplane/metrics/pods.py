"""Per-pod samples for Resource metrics, read from cAdvisor and kube-state-metrics series.

One tick sends these queries ONCE for every namespace that holds a Resource metric (`namespace=~"a|b"`),
however many policies there are; each policy's pods are then picked from the answers by its target's
label selector (metrics.selectors). The series and labels are the exporters' own:

    key         query                                                      gives the HPA's
    labels      kube_pod_labels                                            pod list (selector)
    phase       kube_pod_status_phase == 1                                 Pending / Failed
    deleting    kube_pod_deletion_timestamp                                DeletionTimestamp
    ready       kube_pod_status_ready{condition="true"}                    Ready condition (1 / 0)
    ready_time  kube_pod_status_ready_time                                 its lastTransitionTime
    start       kube_pod_start_time                                        status.startTime
    containers  kube_pod_container_info                                    spec.containers
    requests    kube_pod_container_resource_requests{resource="cpu"}       container requests
    cpu         sum by (namespace,pod,container)                            metrics-server's usage
                  (rate(container_cpu_usage_seconds_total{container!="",container!="POD"}[W]))
    memory      the same over container_memory_working_set_bytes (no rate)

Missing series, on purpose, as the HPA reads a missing field:
- a pod listed by kube_pod_labels without a usage series has no metrics: "missing" (counted at 0 or
  at its request, by the calculator's rules);
- a container listed by kube_pod_container_info without a request series lacks the request: the
  calculator refuses the metric ("missing request for cpu"), as calculatePodRequests does;
- no kube_pod_status_ready series: the pod has no Ready condition (unready for CPU); no start time:
  likewise. kube-state-metrics publishes kube_pod_status_ready_time only while the pod is Ready, so
  an unready pod's transition time is unknown; it is taken as "now", which sets the pod aside within
  the CPU initialization period and counts it afterwards (the HPA would also set aside, after that
  period, a pod that never became ready: the one case read differently);
- no phase series: Running.
A failed query (Prometheus down, a timeout) fails every Resource metric this tick with its error,
so the engine holds (metric_failed) as it does for a failed query metric.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

from scaleplane.metrics import selectors, sources
from scaleplane.scaling.deciding import utilization

# The cAdvisor rate's default window: two 30 s scrapes, about metrics-server's own window.
RATE_SECONDS = 60
ALLOWLIST_HINT = (
    "kube-state-metrics publishes a pod label only when --metric-labels-allowlist names it "
    "(pods=[*] for all; the stacks set it)"
)


def queries(
    namespaces: Collection[str], resources: Collection[str], rate_seconds: int = RATE_SECONDS
) -> dict[str, str]:
    """key -> PromQL for the namespaces and resources (cpu, memory) the tick's policies need."""
    if not namespaces:
        return {}
    where = f'namespace=~"{"|".join(sorted(set(namespaces)))}"'
    found = {
        "labels": f"kube_pod_labels{{{where}}}",
        "phase": f"kube_pod_status_phase{{{where}}} == 1",
        "deleting": f"kube_pod_deletion_timestamp{{{where}}}",
        "ready": f'kube_pod_status_ready{{{where},condition="true"}}',
        "ready_time": f"kube_pod_status_ready_time{{{where}}}",
        "start": f"kube_pod_start_time{{{where}}}",
        "containers": f"kube_pod_container_info{{{where}}}",
    }
    containers = f'{where},container!="",container!="POD"'
    by = "sum by (namespace, pod, container)"
    for resource in sorted(set(resources)):
        found[f"requests_{resource}"] = (
            f'kube_pod_container_resource_requests{{{where},resource="{resource}"}}'
        )
    if "cpu" in resources:
        found["usage_cpu"] = (
            f"{by} (rate(container_cpu_usage_seconds_total{{{containers}}}[{rate_seconds}s]))"
        )
    if "memory" in resources:
        found["usage_memory"] = f"{by} (container_memory_working_set_bytes{{{containers}}})"
    return found


Pod = tuple[str, str]  # (namespace, pod)


@dataclass
class PodTable:
    """The answers of one tick, by pod; `error` set when any query failed."""

    error: str | None = None
    at: float = 0.0
    window: float = float(RATE_SECONDS)
    labels: dict[Pod, dict[str, str]] = field(default_factory=dict)
    values: dict[str, dict[Pod, float]] = field(default_factory=lambda: defaultdict(dict))
    phases: dict[Pod, str] = field(default_factory=dict)
    containers: dict[Pod, set[str]] = field(default_factory=lambda: defaultdict(set))
    per_container: dict[str, dict[Pod, dict[str, float]]] = field(default_factory=dict)

    def samples(
        self, namespace: str, selector: str | None, resource: str, container: str | None
    ) -> tuple[tuple[utilization.PodSample, ...] | None, str | None]:
        """(the selected pods' samples, None) or (None, why there are none)."""
        if self.error is not None:
            return None, self.error
        if selector is None:
            return (
                None,
                "the target reports no pod selector (Resource metrics need a Deployment, "
                "StatefulSet or a kind whose /scale gives status.selector)",
            )
        try:
            wanted = selectors.parse(selector)
        except selectors.SelectorError as exc:
            return None, f"the target's selector: {exc}"
        chosen = [
            pod
            for pod, labels in sorted(self.labels.items())
            if pod[0] == namespace and selectors.matches(wanted, labels)
        ]
        if not chosen and any(pod[0] == namespace for pod in self.labels):
            return None, f"no pod in {namespace} matches the selector {selector!r}; {ALLOWLIST_HINT}"
        usage = self.per_container.get(f"usage_{resource}", {})
        requests = self.per_container.get(f"requests_{resource}", {})
        return tuple(self._sample(pod, resource, container, usage, requests) for pod in chosen), None

    def _sample(
        self,
        pod: Pod,
        resource: str,
        container: str | None,
        usage: Mapping[Pod, Mapping[str, float]],
        requests: Mapping[Pod, Mapping[str, float]],
    ) -> utilization.PodSample:
        names = {container} if container else (self.containers.get(pod) or set(requests.get(pod, {})))
        asked = requests.get(pod, {})
        request = None if not names or any(n not in asked for n in names) else sum(asked[n] for n in names)
        used = usage.get(pod)
        value = None if used is None or not names & set(used) else sum(used.get(n, 0.0) for n in names)
        ready = self.values["ready"].get(pod)
        ready_time = self.values["ready_time"].get(pod)
        start = self.values["start"].get(pod)
        if ready is not None and ready < 1:
            ready_since: float | None = self.at  # unknown (see the module docstring)
        else:
            ready_since = ready_time if ready_time is not None else start
        return utilization.PodSample(
            name=pod[1],
            phase=self.phases.get(pod, "Running"),  # type: ignore[arg-type]  # checked in _read
            deleting=pod in self.values["deleting"],
            ready=None if ready is None else ready >= 1,
            ready_since=ready_since,
            started_at=start,
            request=request,
            usage=value,
            sampled_at=self.at,
            window=self.window,
        )


PHASES = ("Pending", "Running", "Succeeded", "Failed", "Unknown")


def table(
    asked: Mapping[str, str],
    answers: Mapping[str, sources.SeriesResult],
    at: float,
    rate_seconds: int = RATE_SECONDS,
) -> PodTable:
    """Read the answers to `queries(...)` (key -> PromQL) into a PodTable."""
    result = PodTable(at=at, window=float(rate_seconds))
    for key, query in asked.items():
        answer = answers.get(query)
        if answer is None or answer.error is not None:
            why = answer.error if answer is not None else "no answer"
            result.error = f"cannot read the pods' {key} ({query}): {why}"
            return result
        for labels, value in answer.series:
            pod = (labels.get("namespace", ""), labels.get("pod", ""))
            if key == "labels":
                result.labels[pod] = dict(labels)
            elif key == "phase":
                if labels.get("phase") in PHASES:
                    result.phases[pod] = labels["phase"]
            elif key == "containers":
                result.containers[pod].add(labels.get("container", ""))
            elif key.startswith(("usage_", "requests_")):
                per_pod = result.per_container.setdefault(key, {}).setdefault(pod, {})
                name = labels.get("container", "")
                per_pod[name] = per_pod.get(name, 0.0) + value
            else:
                result.values[key][pod] = value
    return result
