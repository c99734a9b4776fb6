"""The loop: only the Lease holder ticks, and on taking over it first reloads the engine states."""

from __future__ import annotations

from typing import Any

from scaleplane.control import policies
from scaleplane.operator.loop import looping
from scaleplane.operator.records import instruments, registering
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

    async def tick(
        self, managed: list[policies.ManagedPolicy], now: float, *, may_actuate: Any = None
    ) -> list[policies.TickOutcome]:
        self.seen += [m.state for m in managed]
        return []


class Recorder:
    def __init__(self) -> None:
        self.recorded = 0

    async def record(self, outcomes: Any, at: float) -> None:
        self.recorded += 1


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


class LosingController(Controller):
    """Loses the Lease in the middle of its tick (a renew that failed past its deadline)."""

    def __init__(self, lease: Lease) -> None:
        super().__init__()
        self.lease = lease

    async def tick(self, managed: Any, now: float, *, may_actuate: Any = None) -> list[policies.TickOutcome]:
        assert may_actuate is not None and may_actuate()
        self.lease.is_leader = False
        assert not may_actuate()  # the fence the controller asks before each write says so at once
        return []


async def test_a_tick_that_lost_the_lease_midway_records_nothing() -> None:
    registry = registering.Registry(make_target=lambda ns, ref: Target())
    registry.observe(dict(POLICY))
    lease = Lease()
    lease.is_leader = True
    recorder = Recorder()
    loop = looping.OperatorLoop(
        tick_seconds=1,
        registry=registry,
        controller=LosingController(lease),  # type: ignore[arg-type]
        recorder=recorder,  # type: ignore[arg-type]
        meters=instruments.Instruments(),
        lease=lease,  # type: ignore[arg-type]
    )
    await loop.tick()
    assert recorder.recorded == 0  # no status, Events or hooks from a replica that may no longer lead
