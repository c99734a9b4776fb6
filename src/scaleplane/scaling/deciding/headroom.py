"""Headroom from the load's own recent rises: `spec.sizing.method: rise`. Only ever adds replicas.

New capacity counts only after a lead time: the query's rate window, the start-up time, a sync period.
What the SLO loses is the load that arrives above capacity in that time, so the headroom worth paying
for is how much the load actually rises over such a horizon; a fixed target buys the same margin at a
quiet hour and in a surge. Each tick, for each metric:

    rise   = max(load over (t, t + horizonSeconds]) / load(t) - 1, for the newest reading t that is at
             least horizonSeconds old (its horizon has just passed: each reading is counted once);
             not counted when load(t) is 0 (a rise from nothing has no ratio);
    count  the rise in a histogram of the last windowSeconds of rises;
    sized  = latest load x (1 + the histogram's `quantile`), recommended for when it asks for more.

This is a forecast that knows its own error, with the last reading as the forecast: the quantile of
how far the load went above "it stays as it is" is the margin that covers all but 1 - quantile of the
horizons seen. A load that stays flat gets no headroom; a load that doubles within a horizon once in a
hundred gets double at quantile 0.99.

The histogram (in `state.extra["rises"][metric]`, so the operator keeps it in the CR status) is small
and costs O(bins) per tick, not O(window): rises are binned in steps of 2 % of 1 + rise (bin 0 is "no
rise", bin b >= 1 covers up to 1.02^b - 1, read as that upper edge, so the headroom is never below the
rise it stands for), up to 1.02^200 (52x); the window is kept as `BLOCKS` blocks of windowSeconds /
BLOCKS each, a block leaving whole when its start is a window old (so the rises read span between
3/4 of the window and all of it). Entries: {"starts": [block start times], "blocks": [[counts per
bin]...], "total": [counts per bin, summed over the blocks]}. A state edited into something else is
dropped and the histogram starts again (no headroom until MIN_RISES rises are counted).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from scaleplane.scaling import decisions, specs
from scaleplane.scaling.deciding import forecasting, recommending

STEP = math.log(1.02)  # one bin: 2 % of 1 + rise
MAX_BIN = 200  # 1.02^200 = 52: a larger rise counts as that
BLOCKS = 4  # the window as four blocks: rises leave it a block at a time
MIN_RISES = 10  # fewer counted rises than this: no headroom yet


class Entry(dict[str, list[Any]]):
    """A histogram `counted` built (a dict on the wire: JSON writes it as one). Its lists are never
    changed after it is built, so `valid` trusts it as it is and checks only a plain dict (one read
    back from a CR status or a state file), once: the check is most of this module's cost per tick."""


def size_for_rises(
    spec: specs.ScalingPolicySpec,
    recs: tuple[decisions.MetricRecommendation, ...],
    state: decisions.ScalingState,
    current: int,
    ready: int,
    tolerances: recommending.Tolerances,
    now: float,
) -> tuple[tuple[decisions.MetricRecommendation, ...], dict[str, Entry]]:
    """(recommendations, the histograms to remember), one histogram per metric that was read."""
    settings = spec.sizing
    assert settings is not None and settings.method == "rise"  # sizing.size dispatches here
    remembered = state.extra.get("rises")
    remembered = remembered if isinstance(remembered, Mapping) else {}
    by_name = {m.name: m for m in spec.metrics}
    kept: dict[str, Entry] = {}
    sized: list[decisions.MetricRecommendation] = []
    for rec in recs:
        entry = valid(remembered.get(rec.metric))
        if rec.value is None or rec.replicas is None:  # a failed read counts nothing, forgets nothing
            if entry is not None:
                kept[rec.metric] = entry
            sized.append(rec)
            continue
        metric = by_name[rec.metric]
        scale = forecasting.multiplier(metric, current, ready)
        load = max(rec.value, 0.0) * scale
        found = rise(state.history, rec.metric, now, settings.horizon_seconds, load)
        entry = counted(entry, None if found is None else bin_of(found), now, settings.window)
        kept[rec.metric] = entry
        margin = headroom(entry["total"], settings.quantile)
        if margin > 0:
            rec = recommending.raised(rec, metric, load * (1.0 + margin) / scale, current, ready, tolerances)
        sized.append(rec)
    return tuple(sized), kept


def rise(
    history: Sequence[tuple[float, str, float]], metric: str, now: float, horizon: float, load: float
) -> float | None:
    """The relative rise over the horizon that has just passed (module docstring); None when there is
    no reading old enough yet or the origin's load is 0. `load` is the reading at `now`."""
    highest = load
    for at, name, value in reversed(history):  # newest first; only about horizon / tick entries
        if name != metric or at >= now:
            continue
        if at <= now - horizon:
            return highest / value - 1.0 if value > 0 else None
        highest = max(highest, value)
    return None


def bin_of(rise: float) -> int:
    if not rise > 0:  # no rise (or NaN)
        return 0
    return min(MAX_BIN, 1 + int(math.log1p(rise) / STEP)) if math.isfinite(rise) else MAX_BIN


def upper_edge(index: int) -> float:
    """The rise a bin stands for: its upper edge (bin 0: none)."""
    return math.exp(index * STEP) - 1.0 if index > 0 else 0.0


def headroom(total: Sequence[int], quantile: float) -> float:
    """The `quantile` of the counted rises (an upper edge), 0 with fewer than MIN_RISES of them."""
    n = sum(total)
    if n < MIN_RISES:
        return 0.0
    above = n - math.ceil(quantile * n)  # rises allowed above the quantile
    seen = 0
    for index in range(len(total) - 1, 0, -1):
        seen += total[index]
        if seen > above:
            return upper_edge(index)
    return 0.0


def counted(entry: Entry | None, index: int | None, now: float, window: float) -> Entry:
    """The histogram with the blocks a window old dropped and `index` (a bin, or None) counted; the
    lists of `entry` are not changed (a state is a value)."""
    starts, blocks, total = (
        (list(entry["starts"]), list(entry["blocks"]), entry["total"]) if entry else ([], [], [])
    )
    copied = False
    while starts and starts[0] <= now - window:
        gone = blocks.pop(0)
        starts.pop(0)
        total = [t - (gone[i] if i < len(gone) else 0) for i, t in enumerate(total)]
        copied = True
    if index is None:
        return Entry(starts=starts, blocks=blocks, total=total)
    if not starts or now - starts[-1] >= window / BLOCKS:
        starts.append(now)
        blocks.append([])
    block = list(blocks[-1])
    total = total if copied else list(total)
    for counts in (block, total):
        if len(counts) <= index:
            counts.extend([0] * (index + 1 - len(counts)))
        counts[index] += 1
    blocks[-1] = block
    return Entry(starts=starts, blocks=blocks, total=total)


def valid(entry: Any) -> Entry | None:
    """The remembered histogram when it has the shape `counted` leaves, else None (start again)."""
    if type(entry) is Entry:
        return entry
    if not isinstance(entry, Mapping):
        return None
    starts, blocks, total = entry.get("starts"), entry.get("blocks"), entry.get("total")
    if not (isinstance(starts, list) and isinstance(blocks, list) and isinstance(total, list)):
        return None
    if len(starts) != len(blocks) or len(starts) > BLOCKS + 1 or len(total) > MAX_BIN + 1:
        return None
    if not set(map(type, starts)) <= {int, float}:
        return None
    for counts in (total, *blocks):  # at C speed: this runs every tick
        if not isinstance(counts, list) or not set(map(type, counts)) <= {int} or min(counts, default=0) < 0:
            return None
    return Entry(starts=starts, blocks=blocks, total=total)
