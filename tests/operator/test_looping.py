"""The loop: only the Lease holder ticks, and on taking over it first reloads the engine states."""

from __future__ import annotations

from typing import Any

from scaleplane.control import policies
from scaleplane.operator import instruments, looping, registering
from scaleplane.scaling import decisions
from scaleplane.targets import protocol

POLICY = {
    "apiVersion": "scaleplane.io/v1alpha1",
    "kind": "ScalingPolicy",
    "metadata": {"name": "p", "namespace": "ns", "generation": 1},
    "spec": {
        "targetRef": {"name": "w"},
        "maxReplicas": 3,
        "metrics": [{"name": "q", "query": "q", "target": {"value": 1}}],
    },
}


class Target:
    async def read(self) -> protocol.ReplicaCount:
        return protocol.ReplicaCount(1, 1)

    async def scale(self, replicas: int) -> None:
        pass


class Lease:
    is_leader = False


class Controller:
    def __init__(self) -> None:
        self.seen: list[decisions.ScalingState] = []

    async def tick(self, managed: list[policies.ManagedPolicy], now: float) -> list[policies.TickOutcome]:
        self.seen += [m.state for m in managed]
        return []


class Recorder:
    async def record(self, outcomes: Any, at: float) -> None:
        pass


async def test_takeover_reloads_states_before_the_first_tick_as_leader() -> None:
    registry = registering.Registry(make_target=lambda ns, ref: Target())
    assert registry.observe(dict(POLICY)) == ("valid", None)
    newer = decisions.ScalingState(consecutive_failures=7)
    calls: list[str] = []
    fail = [True]

    async def resync() -> None:
        calls.append("resync")
        if fail[0]:
            fail[0] = False
            raise RuntimeError("API down")
        registry.resync([{**POLICY, "status": {"engineState": newer.to_dict()}}])

    lease, controller = Lease(), Controller()
    loop = looping.OperatorLoop(
        tick_seconds=1,
        registry=registry,
        controller=controller,
        recorder=Recorder(),  # type: ignore[arg-type]
        meters=instruments.Instruments(),
        lease=lease,
        resync=resync,  # type: ignore[arg-type]
    )
    await loop.tick()
    assert calls == [] and controller.seen == []  # a standby neither reloads nor ticks

    lease.is_leader = True
    await loop.tick()  # the reload fails: no actuation on stale state
    assert calls == ["resync"] and controller.seen == []
    await loop.tick()  # reloaded, then ticked with the newer state
    assert calls == ["resync", "resync"] and controller.seen == [newer]
    await loop.tick()  # still leading: no reload
    assert calls == ["resync", "resync"] and len(controller.seen) == 2

    lease.is_leader = False
    await loop.tick()
    lease.is_leader = True
    await loop.tick()  # leadership regained: reload again
    assert calls.count("resync") == 3
