"""Replay a demand series through the real decision engine against a modelled target.

The model, tick by tick (tick k covers [k * tick, (k + 1) * tick) seconds; default tick 15 s):

1. At the tick's start the controller (every `sync_seconds`, e.g. 15 s for the HPA, 30 s for KEDA)
   observes the simulated system as Prometheus would and calls `engine.decide`. The signals:
   - `demand`:  `sum(rate(work_total[W]))`, the mean arrival rate of work (units/s) over the last
     W seconds before the tick (before the trace starts, the first tick's rate). W is the query's own
     range (`[30s]`, `[5m]`: its first range selector), else `rate_window_seconds`;
   - `backlog`: the queue length (work units waiting) at the tick's start, a gauge.
   A metric reads `backlog` when its name or query mentions queue, backlog, depth, lag or pending,
   else `demand`; `signals={"metric": "backlog"}` overrides. A Resource metric (cpu, memory) reads
   modelled pods instead: each ready pod busy (its share of the work over the window, capped at 1)
   times its request, pods still starting Pending (docs/simulate.md); O(replicas) per sync.
   With target type `AverageValue` the engine asks for `ceil(value / target)` replicas, as the HPA
   does for an External metric (only its tolerance check divides by the replica count); `Value`
   scales the ready count by `value / target`.
2. The decision applies at once: new replicas are billed now and ready `ceil(startup / tick)` ticks
   later; removals take not-ready replicas first (as a ReplicaSet does), and billing stops at once.
3. The tick is served by the replicas ready at its start: capacity = ready * capacity_per_replica * tick.
   Work = the tick's arrivals plus, with `queueing` (the default), the backlog carried in (work beyond
   capacity waits, FIFO, for later ticks; without queueing it is dropped).

Metrics (exact; `scaling.simulating.outcomes.tally` sums them from what the loop recorded):
- replica_hours: sum over ticks of billed replicas (ready + starting) * tick / 3600.
- slo_violation_minutes: minutes (windows of the objective) whose latency quantile is above the
  objective, from the FIFO queue's waits (`scaling.simulating.latencies`: p95 under 100 ms over each minute).
- shortfall_minutes: (number of ticks whose work exceeds that tick's capacity) * tick / 60, i.e.
  minutes in which some demand, or some queued work, was not served within its tick (the measure this
  simulator had before the latency SLO, kept as a second view).
- scale_events: ticks at which the billed replica count changed.
- overload_work_fraction: sum of max(0, arrivals - capacity) over ticks / all arrivals.
- late_work_fraction: work whose latency is above the objective (or dropped) / all work.

Cost: O(ticks) Python steps (one `decide` per sync) plus numpy over ticks; a replica count of 10^8 costs
what 10 costs (pending start-ups are kept as (ready tick, count) batches, not one entry per replica).
A span where the engine and the target are at a fixed point (constant or zero load, nothing starting,
nothing queued) is skipped to the demand's next change, with the state computed directly and exactly
(`scaling.simulating.skipping`: the argument and its conditions).

The oracle (`scaling.simulating.oracle`) uses the same ticks, capacity and start-up delay.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from scaleplane.scaling import decisions, specs
from scaleplane.scaling.deciding import engine
from scaleplane.scaling.simulating import (
    fleets,
    latencies,
    oracle,
    outcomes,
    readings,
    runlengths,
    skipping,
)

Decide = Callable[
    [specs.ScalingPolicySpec, decisions.Observation, decisions.ScalingState, float],
    tuple[decisions.Decision, decisions.ScalingState],
]


# Kept here under their old names: callers read them as simulation.X.
TargetModel = fleets.TargetModel
BACKLOG_WORDS = readings.BACKLOG_WORDS
SIGNALS = readings.SIGNALS
REQUESTS = readings.REQUESTS
DENSE_TICKS_PER_RUN = 16  # runs shorter than this on average (a minute of 15 s ticks is 4): a list
DENSE_TICKS = 5_000_000  # ... when that list stays small (a float object per tick)
Timeline = outcomes.Timeline
Outcome = outcomes.Outcome
signal_for = readings.signal_for
window_of = readings.window_of


def simulate(
    spec: specs.ScalingPolicySpec,
    demand: Sequence[float] | runlengths.Runs,
    *,
    model: TargetModel,
    tick_seconds: float = 15.0,
    sync_seconds: float = 15.0,
    start: float = 0.0,
    name: str = "policy",
    signals: Mapping[str, str] | None = None,
    on_tick: Callable[[int, int], None] | None = None,
    decide: Decide = engine.decide,
    slo: latencies.LatencyObjective = latencies.P95_UNDER_100MS,
    best: oracle.OraclePlan | None = None,
    skip: bool = True,
) -> Outcome:
    """Run `spec` through `engine.decide` over `demand` (units/s per tick); see the module docstring.

    `on_tick(done, total)` reports progress; `decide` replaces the engine (tests observe what it sees);
    `best` is the oracle's plan when the caller has it already (a sweep computes it once per bounds);
    `skip=False` steps every tick even where `scaling.simulating.skipping` proves the span a fixed point.
    `demand` as runs (simulating.runlengths) gives the same Outcome with its per-tick series as run views,
    in time that grows with the runs and the stepped ticks, not with skipped ones (`outcomes.tally`).
    """
    as_runs: runlengths.Runs | None = None
    series: Sequence[float]
    if isinstance(demand, runlengths.Runs):
        # A busy trace (few ticks per run) is read from a plain list: a run view's lookups cost about a
        # quarter of a stepped tick. Long quiet runs keep the view, which costs nothing per skipped tick.
        dense = len(demand.lengths) * DENSE_TICKS_PER_RUN > demand.ticks and demand.ticks <= DENSE_TICKS
        as_runs, series = demand, demand.expanded() if dense else runlengths.Ticks(demand)
    else:
        series = demand
    if not series:
        raise ValueError("the demand series is empty: nothing to simulate")
    wiring = {m.name: signal_for(m, signals or {}) for m in spec.metrics}
    unknown = sorted(f"{k}={v}" for k, v in wiring.items() if v not in SIGNALS)
    forced = sorted(name for name in signals or {} if wiring.get(name) == "resource")
    if forced:
        raise ValueError(
            f"metric(s) {', '.join(forced)}: a Resource metric reads the modelled pods' utilization, "
            "not a demand or backlog signal"
        )
    if unknown:
        raise ValueError(f"unknown signal(s) {', '.join(unknown)}: expected one of {', '.join(SIGNALS)}")
    lag = model.startup_ticks(tick_seconds)
    windows = {
        m.name: max(1, round(window_of(m, model.rate_window_seconds) / tick_seconds)) for m in spec.metrics
    }

    def rate(k: int, window: int) -> float:
        before = max(0, window - k)  # ticks of the window before the trace: at the first tick's rate
        return (before * series[0] + sum(series[max(0, k - window) : k])) / window

    sync_every = max(1, round(sync_seconds / tick_seconds))
    capacity_per_tick = model.capacity_per_replica * tick_seconds
    busy: list[float] = []  # per tick: the share of the ready pods' capacity the tick's work used

    def busy_over(k: int, window: int) -> float:
        if not busy:  # before the first tick: the first tick's share, a system in steady state
            ready_capacity = max(1, initial) * capacity_per_tick
            return min(1.0, series[0] * tick_seconds / ready_capacity)
        recent = busy[max(0, k - window) : k]
        return sum(recent) / len(recent)

    first = oracle.needed(series[0], model.capacity_per_replica)
    initial = min(spec.max_replicas, max(spec.min_replicas, first))
    fleet = fleets.Fleet(ready=initial)
    state = decisions.ScalingState()
    backlog = 0.0
    # per tick: lists, or runs when the demand came as runs (a skipped span is then one entry)
    replicas: list[int] | runlengths.Builder = [] if as_runs is None else runlengths.Builder()
    ready_counts: list[int] | runlengths.Builder = [] if as_runs is None else runlengths.Builder()
    backlogs: list[float] | runlengths.Builder = [] if as_runs is None else runlengths.Builder()
    carried: list[float] | runlengths.Builder = [] if as_runs is None else runlengths.Builder()
    reasons: Counter[str] = Counter()
    violated = 0
    overload = 0.0
    # Resource metrics read the modelled pods' recent busyness, which simulating.skipping does not model.
    stepped = not skip or decide is not engine.decide or "resource" in wiring.values()
    runs = None if stepped else skipping.Runs(series if as_runs is None else as_runs)
    if runs is not None and not skipping.skippable(spec, start, tick_seconds, len(series)):
        runs = None
    widest = max(windows.values(), default=1)
    period = sync_every * tick_seconds
    before: decisions.ScalingState | None = None  # the state the previous sync tick left
    after = state
    reason = ""
    k = 0
    pods = "resource" in wiring.values()  # only then is `busy` read
    # (name, reads the backlog, rate window) of each metric, when none reads pods
    plain = None if pods else [(n, s == "backlog", windows[n]) for n, s in wiring.items()]
    first_rate = series[0]
    Sample = decisions.MetricSample  # a local name: one is made per metric and sync tick
    ticks = len(series)
    while k < ticks:
        arriving_rate = series[k]
        if fleet.starting:
            fleet.advance(k)
        synced = k % sync_every == 0
        if synced:
            left = state
            now = start + k * tick_seconds
            if plain is not None:
                # rate(k, window), inlined: the same sums in the same order, so the same floats
                samples = tuple(
                    [
                        Sample(
                            n,
                            backlog
                            if reads_backlog
                            else (max(0, w - k) * first_rate + sum(series[max(0, k - w) : k])) / w,
                        )
                        for n, reads_backlog, w in plain
                    ]
                )
            else:
                samples = tuple(
                    readings.pod_samples(
                        spec, n, fleet, busy_over(k, windows[n]), now, windows[n] * tick_seconds
                    )
                    if s == "resource"
                    else decisions.MetricSample(n, backlog if s == "backlog" else rate(k, windows[n]))
                    for n, s in wiring.items()
                )
            observed = decisions.Observation(now, fleet.billed, fleet.ready, samples)
            decision, state = decide(spec, observed, state, now)
            reason = decision.reason
            reasons[reason] += 1
            # dryRun is what a simulation is anyway: show what the policy would do; `paused` is honoured
            live = decision.actuate or (spec.dry_run and not spec.paused)
            changed = live and decision.desired != fleet.billed
            if changed:
                fleet.resize(decision.desired, k + lag)
                fleet.advance(k)
            before, after = (None if changed else left), state
        capacity = fleet.ready * capacity_per_tick
        arriving = arriving_rate * tick_seconds
        carried.append(backlog)
        carried_in = backlog
        work = arriving + (backlog if model.queueing else 0.0)
        if work > capacity * (1 + oracle.EPSILON) + oracle.EPSILON:
            violated += 1
        overload += max(0.0, arriving - capacity)
        if pods:
            busy.append(min(1.0, work / capacity) if capacity > 0 else 0.0)
        backlog = max(0.0, work - capacity) if model.queueing else 0.0
        replicas.append(fleet.billed)
        ready_counts.append(fleet.ready)
        backlogs.append(backlog)
        k += 1
        if (
            synced
            and runs is not None
            and backlog == 0.0
            and carried_in == 0.0
            and arriving <= capacity
            and not fleet.starting
            and k - 1 - widest >= 0
            and series[k - 1 - widest] == arriving_rate  # cheap first: the window's ends agree
            and k - 1 - widest >= runs.start_of(k - 1)
            and (checks := skipping.fixed_point_checks(spec, before, after, period, now)) is not None
        ):
            # scaling.simulating.skipping: every tick until the demand changes is this one again
            end = runs.end_of(k - 1)
            syncs = (end - k) // sync_every
            if syncs > 0:
                span_checks = {metric: count * syncs for metric, count in checks.items()}
                moved = skipping.moved(spec, after, syncs * period, now, span_checks)
                assert moved is not None  # fixed_point_checks checked that the state can move
                state = moved
                reasons[reason] += syncs
                repeat = end - k
                _repeat(replicas, fleet.billed, repeat)
                _repeat(ready_counts, fleet.ready, repeat)
                _repeat(backlogs, 0.0, repeat)
                _repeat(carried, 0.0, repeat)
                before = None
                k = end
        if on_tick is not None:
            on_tick(k, len(series))
    recorded = outcomes.Recorded(
        replicas=replicas,
        ready=ready_counts,
        backlog=backlogs,
        carried=carried,
        initial=initial,
        violated=violated,
        overload=overload,
        reasons=reasons,
    )
    return outcomes.tally(
        recorded,
        series,
        as_runs,
        name=name,
        model=model,
        tick_seconds=tick_seconds,
        bounds=(spec.min_replicas, spec.max_replicas),
        slo=slo,
        best=best,
    )


def _repeat(series: list[Any] | runlengths.Builder, value: float, count: int) -> None:
    """`count` more ticks of `value`: one entry in runs, `count` in a list."""
    if isinstance(series, runlengths.Builder):
        series.repeat(value, count)
    else:
        series.extend([value] * count)
