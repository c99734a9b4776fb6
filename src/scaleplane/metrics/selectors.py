"""Kubernetes label selectors, in the string form a Scale's `status.selector` carries, matched against
the pod labels kube-state-metrics publishes (`kube_pod_labels{label_<name>="..."}`).

The grammar is apimachinery's (labels.Parse), which is also what metav1.FormatLabelSelector writes
for a Deployment's `spec.selector`:

    key=value  key==value  key!=value  key in (a,b)  key notin (a,b)  key  !key     joined by ","

kube-state-metrics writes a label `app.kubernetes.io/name` as `label_app_kubernetes_io_name` (every
character outside [a-zA-Z0-9_] becomes `_`), so keys are compared in that spelling. It publishes only
the labels its `--metric-labels-allowlist` names (`pods=[*]` for all); a pod whose selector labels
are not published matches nothing, and the metric fails naming the flag.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

_SET = re.compile(r"^\s*([A-Za-z0-9._/-]+)\s+(in|notin)\s+\(([^()]*)\)\s*$")
_EQ = re.compile(r"^\s*([A-Za-z0-9._/-]+)\s*(==|=|!=)\s*([A-Za-z0-9._-]*)\s*$")
_EXISTS = re.compile(r"^\s*(!?)\s*([A-Za-z0-9._/-]+)\s*$")


class SelectorError(ValueError):
    pass


@dataclass(frozen=True)
class Requirement:
    key: str  # kube-state-metrics' spelling: label_<sanitized key>
    op: str  # in, notin, exists, !exists
    values: frozenset[str] = frozenset()

    def matches(self, labels: Mapping[str, str]) -> bool:
        present = self.key in labels and labels[self.key] != ""  # Prometheus drops empty labels
        if self.op == "exists":
            return present
        if self.op == "!exists":
            return not present
        if self.op == "in":
            return present and labels[self.key] in self.values
        return not present or labels[self.key] not in self.values


def label_name(key: str) -> str:
    return "label_" + re.sub(r"[^a-zA-Z0-9_]", "_", key)


def _split(text: str) -> list[str]:
    """Split on commas outside parentheses (`a in (x,y),b=c` is two requirements)."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p for p in parts if p.strip()]


def parse(text: str) -> tuple[Requirement, ...]:
    """The requirements of `text`; "" selects everything (as labels.Parse gives Everything())."""
    found = []
    for part in _split(text):
        if match := _SET.match(part):
            values = frozenset(v.strip() for v in match[3].split(",") if v.strip())
            found.append(Requirement(label_name(match[1]), match[2], values))
        elif match := _EQ.match(part):
            op = "notin" if match[2] == "!=" else "in"
            found.append(Requirement(label_name(match[1]), op, frozenset({match[3]})))
        elif match := _EXISTS.match(part):
            found.append(Requirement(label_name(match[2]), "!exists" if match[1] else "exists"))
        else:
            raise SelectorError(f"not a label selector: {part.strip()!r} in {text!r}")
    return tuple(found)


def matches(requirements: tuple[Requirement, ...], labels: Mapping[str, str]) -> bool:
    return all(r.matches(labels) for r in requirements)
