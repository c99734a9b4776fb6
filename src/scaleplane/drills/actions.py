"""The one shape every remote backend (aws, kubernetes) shares: a table from step id to an `Action` (what
runs, and the commands an operator types for it), and the steps every such backend does alike: wait
for a condition on the drill's clock, start the data-plane probes, wait for them, run the data check.

A backend builds its table per scenario in its constructor, without I/O (so `plan` and the runbook test
can read the commands of a backend that was given no cluster); `perform` runs one entry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from scaleplane.drills.engine import backends, probes
from scaleplane.drills.probing import databases, loops

Run = Callable[[float], backends.Outcome]
NOT_MEASURED = "no probe: no database endpoint given (dsn); RTO and RPO not measured"


@dataclass(frozen=True)
class Action:
    run: Run
    commands: tuple[str, ...] = ()


def act(run: Run, *commands: str) -> Action:
    return Action(run, commands)


class TableBackend:
    """`supports`, `commands`, `perform`, `probe_log` over `self.table`, and the shared probe steps.

    `scenarios`: the scenarios this backend (class) runs; `table` is the chosen one's, filled by the
    subclass. `poll`: seconds between two reads of the target's state."""

    target = ""
    scenarios: tuple[str, ...] = ()

    def __init__(self, *, scenario: str, clock: loops.Clock, poll: float, dsn: str | None) -> None:
        self.scenario, self.clock, self.poll, self.dsn = scenario, clock, poll, dsn
        self.table: dict[str, Action] = {}
        self.probe: loops.Probe | None = None
        self.fault_at: float | None = None

    def supports(self, scenario: str) -> bool:
        return scenario in self.scenarios

    def commands(self, step_id: str) -> list[str]:
        action = self.table.get(step_id)
        return list(action.commands) if action else []

    def perform(self, step_id: str, timeout: float) -> backends.Outcome:
        action = self.table.get(step_id)
        if action is None:
            return backends.Outcome(False, f"the {self.target} backend has no step {step_id!r}")
        return action.run(timeout)

    def probe_log(self) -> probes.ProbeLog:
        return self.probe.log() if self.probe is not None else probes.ProbeLog()

    # --- the shared steps ----------------------------------------------------------------------------
    def until(self, check: Callable[[], Any], timeout: float, interval: float | None = None) -> Any:
        """`check()` until it is truthy or `timeout` seconds passed on the drill's clock; its last value."""
        interval = self.poll if interval is None else interval
        deadline = self.clock.now() + timeout
        while True:
            value = check()
            if value or self.clock.now() > deadline:
                return value
            self.clock.sleep(interval)

    def fault(self, observed: str) -> backends.Outcome:
        """The fault was injected now: the mark RTO is measured from."""
        self.fault_at = self.clock.now()
        return backends.Outcome(True, observed, {"fault": self.fault_at})

    def start_probes(self, timeout: float) -> backends.Outcome:
        """The writer on `dsn`; the reader on the same DSN asking for a standby where it names the
        primary (`target_session_attrs=read-write` -> `prefer-standby`), as an application's reads would."""
        if self.dsn is None:
            return backends.Outcome(True, NOT_MEASURED)
        read = self.dsn.replace("target_session_attrs=read-write", "target_session_attrs=prefer-standby")
        self.probe = probe = loops.Probe(databases.SqlStore(self.dsn, read), self.clock)
        probe.create_table()
        probe.start()
        ok = self.until(lambda: probe.count("write", ok=True, since=0) >= 20, timeout)
        return backends.Outcome(bool(ok), f"{probe.count('write', ok=True, since=0)} writes acknowledged")

    def await_probe(self, kind: str) -> Run:
        def run(timeout: float) -> backends.Outcome:
            probe, since = self.probe, self.fault_at
            if probe is None or since is None:
                return backends.Outcome(True, f"{kind}s not measured: no probe")
            ok = self.until(lambda: probe.count(kind, ok=True, since=since) > 0, timeout, interval=0.05)
            return backends.Outcome(
                bool(ok), f"{kind}s {'resumed' if ok else 'did not resume'} after the fault"
            )

        return run

    def check_data(self, timeout: float) -> backends.Outcome:
        if self.probe is None:
            return backends.Outcome(True, "data check not run: no probe")
        self.probe.stop()
        return backends.Outcome(True, f"{len(self.probe.check())} numbers found after recovery")

    def probe_steps(self) -> dict[str, Action]:
        """The database scenarios' probe steps, alike on every remote target."""
        return {
            "start-probes": act(self.start_probes),
            "verify-writes-resume": act(self.await_probe("write")),
            "verify-reads-resume": act(self.await_probe("read")),
            "verify-acknowledged-commits": act(self.check_data),
        }

    def stop_probes(self) -> None:
        if self.probe is not None:
            self.probe.stop(timeout=5)
