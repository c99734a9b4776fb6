"""Batch queries of one shape into one `AGG by (label)` query: exact, or not batched at all.

Thousands of policies tend to share a template that differs in one label only, e.g. one policy per
queue:  sum(queue_depth{queue="q1"}),  sum(queue_depth{queue="q2"}), ...  Those are answered by ONE
query,  sum by (queue) (queue_depth{queue=~"q1|q2"}),  whose series carry the label back, so each
original query gets exactly the value it would have had alone (and "no data" when its series is
missing). This holds because the aggregation is the outermost operator and everything inside works
series by series, so only a strict grammar is batched; anything else is sent as it is:

    QUERY  := AGG "(" INNER ")"                    AGG  in sum, min, max, avg, count (no by/without)
    INNER  := SEL | FUNC "(" SEL "[" RANGE "]" ")"  FUNC in rate, irate, increase, delta, *_over_time
    SEL    := METRIC "{" MATCHER ("," MATCHER)* "}" MATCHER := label op "value", values of
                                                              [A-Za-z0-9_.:-] only (no escaping games)

Queries are grouped by everything but one equality matcher's value; a query that could join several
groups joins the largest. Groups of one stay single queries; large groups are cut into chunks.

Some label names are fine in a matcher but not in a grouping: Prometheus 2.x reads `by (without)`,
`by (nan)`, `by (inf)` as a keyword or a number and refuses the whole query (quoted label names,
`by ("without")`, arrive only with Prometheus 3's UTF-8 names, so they cannot be relied on). A query
varying in such a label, in any PromQL keyword (case-insensitive), or in a reserved `__` label (which
`rate()` drops) is left unmerged. What this list misses, Prometheus answers with a 400: the caller
re-sends that batch query by query and passes its shape back in `avoid`, so it is not merged again.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass

AGGREGATIONS = ("sum", "min", "max", "avg", "count")
RANGE_FUNCTIONS = (
    "rate",
    "irate",
    "increase",
    "delta",
    "avg_over_time",
    "min_over_time",
    "max_over_time",
    "sum_over_time",
    "count_over_time",
    "last_over_time",
)
_QUERY = re.compile(
    r"^\s*(?P<agg>" + "|".join(AGGREGATIONS) + r")\s*\(\s*"
    r"(?:(?P<func>" + "|".join(RANGE_FUNCTIONS) + r")\s*\(\s*)?"
    r"(?P<metric>[a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{(?P<matchers>[^{}]*)\}"
    r"(?:\s*\[(?P<range>[0-9smhdwy]+)\])?"
    r"\s*(?P<close>\)?)\s*\)\s*$"
)
# Every word the PromQL lexer may read as a keyword, an operator, an aggregation or a number
# (Prometheus 2.x and 3.x), lower-cased: a label of one of these names is never a grouping label.
UNGROUPABLE = frozenset(
    {
        *("and", "or", "unless", "atan2", "by", "without", "on", "ignoring", "group_left", "group_right"),
        *("bool", "offset", "start", "end", "step", "nan", "inf", "infinity", "smoothed", "anchored"),
        *("sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values"),
        *("bottomk", "topk", "quantile", "limitk", "limit_ratio"),
    }
)
_MATCHER = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"([A-Za-z0-9_.:\-]*)"\s*')


@dataclass(frozen=True)
class Shape:
    """Everything of a query but the value of `label`."""

    agg: str
    func: str | None
    metric: str
    range: str | None
    others: tuple[tuple[str, str, str], ...]  # the other matchers, sorted
    label: str

    def query(self, values: Iterable[str]) -> str:
        alternatives = "|".join(v.replace(".", "\\\\.") for v in dict.fromkeys(values))
        matchers = [f'{name}{op}"{value}"' for name, op, value in self.others]
        matchers.append(f'{self.label}=~"{alternatives}"')
        selector = f"{self.metric}{{{', '.join(matchers)}}}"
        inner = f"{self.func}({selector}[{self.range}])" if self.func else selector
        return f"{self.agg} by ({self.label}) ({inner})"


@dataclass(frozen=True)
class Batch:
    shape: Shape
    members: dict[str, str]  # original query -> its value of shape.label

    @property
    def query(self) -> str:
        return self.shape.query(self.members.values())


def shapes_of(query: str) -> list[tuple[Shape, str]]:
    """Every (shape, label value) this query can be batched under; [] when it is not batchable."""
    match = _QUERY.match(query)
    if not match:
        return []
    func, range_ = match["func"], match["range"]
    if bool(func) != bool(range_) or bool(func) != bool(match["close"]):
        return []  # a range without a function, or the reverse: leave it to Prometheus to judge
    matchers = []
    rest = match["matchers"].strip()
    if rest:
        for part in rest.split(","):
            found = _MATCHER.fullmatch(part)
            if not found:
                return []
            matchers.append((found[1], found[2], found[3]))
    names = [name for name, _, _ in matchers]
    if len(names) != len(set(names)):
        return []
    shapes = []
    for i, (name, op, value) in enumerate(matchers):
        if op != "=" or not value or not groupable(name):
            continue
        others = tuple(sorted(matchers[:i] + matchers[i + 1 :]))
        shapes.append((Shape(match["agg"], func, match["metric"], range_, others, name), value))
    return shapes


def groupable(label: str) -> bool:
    """True when `label` may stand in `by (...)` on every Prometheus we support."""
    return not label.startswith("__") and label.lower() not in UNGROUPABLE


def plan(
    queries: Iterable[str], *, max_batch: int = 1000, avoid: Collection[Shape] = ()
) -> tuple[list[Batch], list[str]]:
    """Split distinct `queries` into batches (of 2..max_batch members) and queries sent alone.

    `avoid`: shapes never to merge (Prometheus refused their batched query before).
    """
    candidates = {q: [sv for sv in shapes_of(q) if sv[0] not in avoid] for q in dict.fromkeys(queries)}
    sizes = Counter(shape for options in candidates.values() for shape, _ in options)
    groups: dict[Shape, dict[str, str]] = defaultdict(dict)
    singles: list[str] = []
    for query, options in candidates.items():
        if not options:
            singles.append(query)
            continue
        shape, value = max(options, key=lambda sv: (sizes[sv[0]], sv[0].label))
        groups[shape][query] = value  # two queries with one value are the same query spelled twice
    batches: list[Batch] = []
    for shape, members in groups.items():
        if len(members) < 2:
            singles.extend(members)
            continue
        items = list(members.items())
        for start in range(0, len(items), max_batch):
            chunk = dict(items[start : start + max_batch])
            if len(chunk) == 1:
                singles.extend(chunk)
            else:
                batches.append(Batch(shape, chunk))
    return batches, singles
