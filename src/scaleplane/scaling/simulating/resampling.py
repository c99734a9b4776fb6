"""A demand trace resampled to the simulation's tick as runs, so a gap of zero demand costs one step.

`resample_runs(trace, tick)` gives, as `runlengths.Runs`, exactly the per-tick values
`traces.resample` gives (the same float operations, tick by tick, wherever the demand is not zero).
A tick whose every overlapping step of the trace lies in one run of zeros is exactly 0.0, so a whole
span of such ticks is appended as one run in one step, whatever its length: a request log with a
ten-year gap between two busy days resamples in the time of the busy days. A run of a constant
non-zero value is computed tick by tick (its integral over a tick depends on how the tick meets the
trace's steps) and comes out as one run when its ticks are equal, as they are when tick and step are
whole seconds.

Refused (a `TraceError` naming the trace): more than `traces.MAX_RUNS` ticks of non-zero demand (the
memory and the time are theirs) or more than `traces.MAX_SPAN_TICKS` ticks in all; both mean a wrong
unit of column `t` or of the timestamps far more often than a trace that long.
"""

from __future__ import annotations

import bisect
import math

from scaleplane.scaling.simulating import runlengths, traces


def resample_runs(trace: traces.DemandTrace, tick_seconds: float) -> runlengths.Runs:
    """The trace's mean demand over each whole tick [k * tick, (k + 1) * tick), as runs."""
    step = trace.step_seconds
    source = trace.runs()
    starts, values, lengths = source.starts(), source.values, source.lengths
    steps = source.ticks
    ticks = int(trace.duration_seconds // tick_seconds + 1e-9)
    busy = sum(math.ceil(n * step / tick_seconds) + 2 for v, n in zip(values, lengths, strict=True) if v)
    if busy > traces.MAX_RUNS or ticks > traces.MAX_SPAN_TICKS:
        raise traces.TraceError(
            trace.name,
            None,
            f"lasts {trace.duration_seconds / 86400:,.0f} days with demand in about {busy:,} ticks of "
            f"{tick_seconds:g} s, more than {traces.MAX_RUNS:,} (or over {traces.MAX_SPAN_TICKS:,} ticks "
            f"in all; a step of {step:g} s between rows: is column 't' in seconds?)",
        )

    def value_at(i: int) -> float:
        return values[bisect.bisect_right(starts, i) - 1]

    def one_tick(k: int) -> float:  # traces.resample's arithmetic, term for term
        lo, hi = k * tick_seconds, (k + 1) * tick_seconds
        first, last = int(lo // step), min(steps - 1, math.ceil(hi / step) - 1)
        work = 0.0
        for i in range(first, last + 1):
            overlap = min(hi, (i + 1) * step) - max(lo, i * step)
            if overlap > 0:
                work += value_at(i) * overlap
        return work / tick_seconds

    out = runlengths.Builder()
    k = 0
    while k < ticks:
        run = bisect.bisect_right(starts, int(k * tick_seconds // step)) - 1
        if values[run] == 0.0:
            end = starts[run] + lengths[run]  # the first step after the run of zeros
            m = min(ticks, int(end * step // tick_seconds))
            # Ticks k..m-1 read only steps of this run when tick m-1's last step is still in it.
            while m > k and min(steps - 1, math.ceil(m * tick_seconds / step) - 1) >= end:
                m -= 1
            if m > k:
                out.repeat(0.0, m - k)
                k = m
                continue
        out.append(one_tick(k))
        k += 1
    return out.runs()
