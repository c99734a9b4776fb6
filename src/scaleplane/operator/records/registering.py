"""The operator's in-memory registry of ScalingPolicies: what the loop ticks over.

kopf's watch events feed it (`handlers`); the loop reads it. An entry is (re)built only when the
policy's `metadata.generation` changes (a spec edit), so our own status writes, which come back as
watch events too, cost a dictionary lookup. The engine state is read from `status.engineState` once,
when the operator first sees a policy (at start-up, or after a restart): that is what keeps a
restarted operator from flapping. After that, the in-memory state is the truth and is written back to
status (see operator.records.recording for when).

Faults stay inside one policy: a spec that does not parse (for any reason) refuses that policy alone;
a status that does not read back (operator.records.restoring) resets that policy's engine state, and the
entry carries the problems until the recorder has told the user (a Warning Event `StateReset`) and
keeps them in the `StateRestored` condition. Nothing here raises for one policy's content.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from scaleplane.control import policies
from scaleplane.operator.records import restoring
from scaleplane.scaling import specs
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
    # How the engine state was restored when the policy was (re)loaded: (ok, reason, message) for the
    # StateRestored condition; `untold` holds the problems until a Warning Event has said them.
    restored: tuple[bool, str, str] = (True, "Fresh", "")
    untold: tuple[str, ...] = ()
    written_at: float | None = None  # when `status` was last written (for the heartbeat)

    def load(self, readback: restoring.Restored) -> None:
        """Take a status read back from the API: its engine state, and what was wrong with it."""
        self.managed.state = readback.state
        self.status = readback.status
        self.restored = _restored(readback)
        self.untold = readback.problems


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
        except (specs.PolicyError, protocol.TargetError) as exc:
            return self._refuse(key, generation, str(exc))
        except Exception as exc:  # a spec shape the parser did not foresee: this policy alone is refused
            return self._refuse(key, generation, f"spec: cannot be read ({type(exc).__name__}: {exc})")
        ref = {
            "apiVersion": body.get("apiVersion", "scaleplane.io/v1alpha1"),
            "kind": body.get("kind", "ScalingPolicy"),
            "metadata": {"name": key.name, "namespace": key.namespace, "uid": meta.get("uid")},
        }
        if known is not None:  # a spec edit: the engine state and what was written carry on
            managed = policies.ManagedPolicy(key=key, spec=spec, state=known.managed.state, target=target)
            entry = Entry(managed, generation, ref, known.status, known.last_error, known.restored)
            entry.untold, entry.written_at = known.untold, known.written_at
        else:
            readback = restoring.restore(body.get("status"))
            managed = policies.ManagedPolicy(key=key, spec=spec, state=readback.state, target=target)
            entry = Entry(managed, generation, ref)
            entry.load(readback)
        self.entries[key] = entry
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
            entry.load(restoring.restore(body.get("status")))
            entry.written_at = None  # what the old leader wrote is not ours to count from
            count += 1
        return count

    def namespaces(self) -> list[str]:
        """The namespaces of known policies: the only ones a resync may list (under --namespace the
        operator's Role covers no other)."""
        return sorted({key.namespace for key in self.entries})


def _restored(readback: restoring.Restored) -> tuple[bool, str, str]:
    if readback.problems:
        reset = any(p.startswith("status.engineState") for p in readback.problems)
        tail = "; the engine state was reset" if reset else "; those fields were dropped"
        return False, "MalformedStatus", "; ".join(readback.problems)[:900] + tail
    if readback.had_state:
        return True, "Resumed", "the engine state was read back from status.engineState"
    return True, "Fresh", "no engine state in the status: the engine started fresh"


def _generation_tag(generation: int | None) -> str:
    return f"generation {generation}"
