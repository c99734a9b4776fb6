"""The local drill backend: every scenario on real servers on this machine, one part per kind of server
(`patronidrilling`, `cachedrilling`, `restoredrilling`); here what they share: owning the state
directory, the watchdog, the probe, waiting on the drill's clock, the verify steps, the rollback.
The state directory's layout, PID records and `recover` are in `drillfiles`.
"""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from scaleplane.drills.engine import backends, probes
from scaleplane.drills.probing import clocks, loops
from scaleplane.local import runfiles
from scaleplane.local.ha.drills import (
    alertwatching,
    cachedrilling,
    drillfiles,
    leaderdrilling,
    patronidrilling,
    restoredrilling,
)
from scaleplane.local.servers import processes, watchdog

SCENARIOS = (
    "db-primary-loss",
    "db-replica-loss",
    "cache-primary-loss",
    "restore-to-point-in-time",
    "operator-leader-loss",
)
STEADY = 25  # acknowledged probe operations after the fault that count as "writes work again"


class LocalBackend:
    target = "local"

    def __init__(
        self,
        *,
        scenario: str,
        state_dir: Path = drillfiles.DEFAULT_STATE_DIR,
        synchronous: bool = True,
        clock: loops.Clock | None = None,
        members: int = 3,
    ) -> None:
        self.scenario = scenario
        self.state_dir = state_dir
        self.synchronous = synchronous
        self.clock = clock or clocks.WallClock()
        self.members = members
        self.probe: loops.Probe | None = None
        self.watchdog: processes.SupervisedProcess | None = None
        self.victim: str | None = None
        self.fault_at: float | None = None
        self.claimed = False  # only a drill that claimed the state dir may clean it up
        self.alerts: alertwatching.AlertWatch | None = None  # where a part runs Prometheus + Alertmanager
        self.actions: dict[str, Callable[[float], backends.Outcome]] = {
            "verify-writes-resume": lambda t: self._await_probe("write", t),
            "verify-reads-resume": lambda t: self._await_probe("read", t),
            "verify-acknowledged-commits": self.check_data,
            "stop-cluster": self.stop_everything,
        }
        self.database = patronidrilling.PatroniSteps(self)
        self.cache = cachedrilling.CacheSteps(self)
        self.restore = restoredrilling.RestoreSteps(self)
        self.leader = leaderdrilling.LeaderSteps(self)
        for part in (self.database, self.cache, self.restore, self.leader):
            self.actions.update(part.actions())

    # --- the Backend protocol -------------------------------------------------------------------------
    def supports(self, scenario: str) -> bool:
        return scenario in SCENARIOS

    def commands(self, step_id: str) -> list[str]:
        servers = f"{runfiles.servers_dir(self.state_dir)}/"
        table = {
            "cache-primary-loss": cachedrilling.COMMANDS,
            "restore-to-point-in-time": restoredrilling.COMMANDS,
            "operator-leader-loss": leaderdrilling.COMMANDS,
        }.get(self.scenario, patronidrilling.COMMANDS)
        return [command.replace("servers/", servers) for command in table.get(step_id, [])]

    def perform(self, step_id: str, timeout: float) -> backends.Outcome:
        action = self.actions.get(step_id)
        if action is None:
            return backends.Outcome(False, f"the local backend has no step {step_id!r}")
        return action(timeout)

    def probe_log(self) -> probes.ProbeLog:
        if self.scenario == "operator-leader-loss":
            return self.leader.probe_log()
        return self.probe.log() if self.probe is not None else probes.ProbeLog()

    # --- helpers ----------------------------------------------------------------------------------------
    def until(self, check: Callable[[], Any], timeout: float, interval: float = 0.1) -> Any:
        """Poll `check` on the drill's clock until it returns something truthy; None on timeout."""
        deadline = self.clock.now() + timeout
        while True:
            try:
                value = check()
            except Exception:  # a member down, an API not answering yet: that is what a drill sees
                value = None
            if value:
                return value
            if self.clock.now() > deadline:
                return None
            self.clock.sleep(interval)
            cluster = self.database.cluster
            if cluster is not None:  # Patroni may restart PostgreSQL under a new PID: keep its record
                for member in cluster.members.values():
                    cluster.track_postmaster(member)

    # --- actions ---------------------------------------------------------------------------------------
    def claim(self) -> None:
        """Own the state directory (refusing a busy or unclean one) and start the watchdog."""
        drillfiles.check_free(self.state_dir)
        self.claimed = True
        shutil.rmtree(runfiles.servers_dir(self.state_dir), ignore_errors=True)
        record = runfiles.claim(self.state_dir)
        drillfiles.marker(self.state_dir).write_text(
            json.dumps({"scenario": self.scenario, "pid": record.pid, "started": self.clock.now()})
        )
        self._start_watchdog(record)

    def _start_watchdog(self, controller: processes.PidRecord) -> None:
        argv = [
            sys.executable,
            "-m",
            "scaleplane.local.servers.watchdog",
            "--state-dir",
            str(self.state_dir),
            "--pid",
            str(controller.pid),
            "--start-ticks",
            str(controller.start_ticks),
        ]
        servers = runfiles.servers_dir(self.state_dir)
        self.watchdog = processes.SupervisedProcess(watchdog.NAME, argv, run_dir=servers).start()

    def start_probe(self, probe: loops.Probe, timeout: float, *, reads: bool = True) -> backends.Outcome:
        self.probe = probe
        probe.create_table()
        since = self.clock.now()
        probe.start(("write", "read") if reads else ("write",))

        def flowing() -> bool:
            writes = probe.count("write", ok=True, since=since) >= 20
            return writes and (not reads or probe.count("read", ok=True, since=since) > 0)

        ok = self.until(flowing, timeout)
        return backends.Outcome(bool(ok), f"{probe.count('write', ok=True, since=since)} writes acknowledged")

    def _await_probe(self, kind: str, timeout: float) -> backends.Outcome:
        probe = self.probe
        assert probe is not None and self.fault_at is not None
        since = self.fault_at
        # Recovery is a steady flow, not one lucky answer: wait for STEADY of them after the fault.
        ok = self.until(lambda: probe.count(kind, ok=True, since=since) >= STEADY, timeout, interval=0.05)
        done = [a.finished for a in probe.log().attempts if a.kind == kind and a.ok and a.started >= since]
        first = min(done, default=None)
        marks = {f"first {kind}": first} if first is not None else {}
        what = "acknowledged" if kind == "write" else "served"
        if first is None:
            return backends.Outcome(False, f"no {kind} {what} since the fault")
        return backends.Outcome(bool(ok), f"first {kind} {what} {first - since:.2f} s after the fault", marks)

    def alert_marks(self) -> dict[str, float]:
        """When each alert went pending and was notified since the fault (none without alerting)."""
        if self.alerts is None or self.fault_at is None:
            return {}
        return self.alerts.marks(self.fault_at)

    def check_data(self, timeout: float) -> backends.Outcome:
        probe = self.probe
        assert probe is not None
        probe.stop(timeout=min(timeout, 10))
        surviving = self.until(probe.check, timeout)
        log = probe.log()
        lost = [a.seq for a in log.acknowledged() if a.seq not in log.surviving]
        return backends.Outcome(
            surviving is not None,
            f"{len(log.acknowledged())} acknowledged, {len(log.surviving)} found, {len(lost)} lost",
            self.alert_marks(),
        )

    def stop_everything(self, timeout: float) -> backends.Outcome:
        if not self.claimed:
            return backends.Outcome(True, "nothing was started")
        if self.probe is not None:
            self.probe.stop(timeout=5)
        if self.watchdog is not None:
            self.watchdog.stop()
        if self.database.cluster is not None:
            self.database.cluster.stop()
        if self.cache.group is not None:
            self.cache.group.stop()
        if self.restore.server is not None:
            self.restore.server.stop()
        self.leader.stop()
        if self.alerts is not None:
            self.alerts.stop()
        ended, postmasters = drillfiles.recover(self.state_dir)
        runfiles.release(self.state_dir)
        left = drillfiles.leftovers(self.state_dir)
        extra = f"; also ended {len(ended) + len(postmasters)} leftover(s)" if ended or postmasters else ""
        return backends.Outcome(not left, f"every drill process stopped{extra}")
