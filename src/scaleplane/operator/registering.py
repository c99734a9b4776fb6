"""The operator's in-memory registry of ScalingPolicies: what the loop ticks over.

kopf's watch events feed it (`handlers`); the loop reads it. An entry is (re)built only when the
policy's `metadata.generation` changes (a spec edit), so our own status writes, which come back as
watch events too, cost a dictionary lookup. The engine state is read from `status.engineState` once,
when the operator first sees a policy (at start-up, or after a restart): that is what keeps a
restarted operator from flapping. After that, the in-memory state is the truth and is written back to
status at every tick.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from scaleplane.control import policies
from scaleplane.scaling import decisions, specs
from scaleplane.targets import protocol

TargetFactory = Callable[[str, specs.TargetRef], protocol.ScaleTarget]


@dataclass
class Entry:
    """One valid policy: the ManagedPolicy the controller needs, plus what recording needs."""

    managed: policies.ManagedPolicy
    generation: int | None
    ref: dict[str, Any]  # apiVersion/kind/metadata(name, namespace, uid): for Events
    status: dict[str, Any] = field(default_factory=dict)  # the last status written (or read)
    last_error: str | None = None


@dataclass
class Registry:
    make_target: TargetFactory
    entries: dict[policies.PolicyKey, Entry] = field(default_factory=dict)
    invalid: dict[policies.PolicyKey, str] = field(default_factory=dict)

    def is_current(self, namespace: str, name: str, generation: int | None) -> bool:
        """True when this spec generation is already known (valid or refused): nothing to redo."""
        key = policies.PolicyKey(namespace or "default", name)
        if generation is None:
            return False
        known = self.entries.get(key)
        if known is not None and known.generation == generation:
            return True
        return self.invalid.get(key) == _generation_tag(generation)

    def observe(self, body: dict[str, Any]) -> tuple[str, str | None]:
        """Take a policy's current body. Returns ("unchanged"|"valid"|"invalid", error)."""
        meta = body.get("metadata") or {}
        key = policies.PolicyKey(meta.get("namespace") or "default", meta["name"])
        generation = meta.get("generation")
        known = self.entries.get(key)
        if self.is_current(key.namespace, key.name, generation):
            return "unchanged", None
        try:
            spec = specs.parse_policy(body.get("spec"))
            target = self.make_target(key.namespace, spec.target_ref)
        except specs.PolicyError as exc:
            return self._refuse(key, generation, str(exc))
        except protocol.TargetError as exc:
            return self._refuse(key, generation, str(exc))
        status = dict(body.get("status") or {})
        state = known.managed.state if known else decisions.ScalingState.from_dict(status.get("engineState"))
        ref = {
            "apiVersion": body.get("apiVersion", "scaleplane.io/v1alpha1"),
            "kind": body.get("kind", "ScalingPolicy"),
            "metadata": {"name": key.name, "namespace": key.namespace, "uid": meta.get("uid")},
        }
        managed = policies.ManagedPolicy(key=key, spec=spec, state=state, target=target)
        self.entries[key] = Entry(managed, generation, ref, known.status if known else status)
        self.invalid.pop(key, None)
        return "valid", None

    def _refuse(self, key: policies.PolicyKey, generation: int | None, error: str) -> tuple[str, str | None]:
        self.entries.pop(key, None)
        self.invalid[key] = _generation_tag(generation)
        return "invalid", error

    def forget(self, namespace: str, name: str) -> Entry | None:
        key = policies.PolicyKey(namespace, name)
        self.invalid.pop(key, None)
        return self.entries.pop(key, None)

    def managed(self) -> list[policies.ManagedPolicy]:
        return [entry.managed for entry in self.entries.values()]

    def keep(self, outcome: policies.TickOutcome) -> Entry | None:
        """Carry a tick's new state into the entry (if the policy still exists)."""
        entry = self.entries.get(outcome.key)
        if entry is not None:
            entry.managed.state = outcome.state
        return entry

    def resync(self, bodies: list[dict[str, Any]]) -> int:
        """Reload engine state and status of known policies from `bodies` (a fresh LIST). Returns how many."""
        count = 0
        for body in bodies:
            meta = body.get("metadata") or {}
            entry = self.entries.get(
                policies.PolicyKey(meta.get("namespace") or "default", meta.get("name", ""))
            )
            if entry is None:
                continue
            status = dict(body.get("status") or {})
            entry.managed.state = decisions.ScalingState.from_dict(status.get("engineState"))
            entry.status = status
            count += 1
        return count


def _generation_tag(generation: int | None) -> str:
    return f"generation {generation}"
